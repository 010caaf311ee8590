import io
import struct
import time
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from workbench.core.images import ImageError, as_rgb, load_image, load_image_bytes, save_image


def _png_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


def _with_declared_size(png: bytes, width: int, height: int) -> bytes:
    """The same PNG with its IHDR claiming another size (and a valid CRC, so only the size is wrong)."""
    assert png[12:16] == b"IHDR"
    ihdr = bytearray(png[16:29])
    ihdr[0:8] = struct.pack(">II", width, height)
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + bytes(ihdr)) & 0xFFFFFFFF)
    return png[:16] + bytes(ihdr) + crc + png[33:]


@pytest.fixture
def noise():
    return np.random.default_rng(0).integers(0, 256, (60, 80, 3), dtype=np.uint8)


def test_rgb_png_round_trips_exactly(tmp_path, noise):
    path = save_image(tmp_path / "a.png", noise)
    out = load_image(path)
    assert out.dtype == np.uint8 and out.shape == (60, 80, 3)
    np.testing.assert_array_equal(out, noise)


def test_bytes_and_path_give_the_same_pixels(tmp_path, noise):
    path = save_image(tmp_path / "a.png", noise)
    np.testing.assert_array_equal(load_image(path.read_bytes()), load_image_bytes(path.read_bytes()))
    np.testing.assert_array_equal(load_image(str(path)), noise)


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(ImageError, match="not found.*nope.png"):
        load_image(tmp_path / "nope.png")


def test_folder_is_refused(tmp_path):
    with pytest.raises(ImageError, match="is a folder"):
        load_image(tmp_path)


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="needs POSIX pipes")
def test_devices_and_pipes_are_not_read(tmp_path):
    import os
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    for path in (fifo, "/dev/zero"):
        with pytest.raises(ImageError, match="is not a regular file"):
            load_image(path)


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(ImageError, match=r"empty.png is empty \(0 bytes\)"):
        load_image(path)


def test_truncated_png(tmp_path, noise):
    path = tmp_path / "cut.png"
    data = _png_bytes(noise)
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="cut.png is truncated or corrupt"):
        load_image(path)


def test_truncated_jpeg(tmp_path, noise):
    buf = io.BytesIO()
    Image.fromarray(noise).save(buf, "JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(ImageError, match="cut.jpg is truncated or corrupt"):
        load_image(path)


def test_truncation_does_not_switch_on_lenient_loading_for_everyone(tmp_path, noise):
    from PIL import ImageFile
    path = tmp_path / "cut.png"
    data = _png_bytes(noise)
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError):
        load_image(path)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_text_renamed_jpg(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("these are my notes, not a picture\nsecond line\n")
    with pytest.raises(ImageError, match="notes.jpg is not an image .it looks like text"):
        load_image(path)


def test_random_binary_is_not_an_image(tmp_path):
    path = tmp_path / "blob.png"
    path.write_bytes(bytes(np.random.default_rng(1).integers(0, 256, 500, dtype=np.uint8)))
    with pytest.raises(ImageError, match="blob.png is not an image .its contents are not in any image format"):
        load_image(path)


def test_16_bit_gray_png_is_scaled_by_the_type_range(tmp_path):
    gray = np.zeros((4, 5), np.uint16)
    gray[0, 0], gray[0, 1], gray[0, 2], gray[0, 3] = 65535, 32768, 257, 1000
    path = tmp_path / "deep.png"
    assert cv2.imwrite(str(path), gray)
    assert Image.open(path).mode.startswith("I;16")
    out = load_image(path)
    assert out.shape == (4, 5, 3)
    assert list(out[0, :4, 0]) == [255, 128, 1, 4]
    assert (out[..., 0] == out[..., 2]).all()


def test_16_bit_rgb_png(tmp_path):
    bgr = np.zeros((3, 4, 3), np.uint16)
    bgr[0, 0] = (65535, 0, 0)       # blue at full range
    bgr[0, 1] = (0, 32768, 0)       # half green
    path = tmp_path / "deep_rgb.png"
    assert cv2.imwrite(str(path), bgr)
    out = load_image(path)
    assert tuple(out[0, 0]) == (0, 0, 255)
    assert out[0, 1, 1] in (127, 128, 129) and out[0, 1, 0] == 0 and out[0, 1, 2] == 0


def test_16_bit_big_endian_and_32_bit_modes():
    big = Image.frombytes("I;16B", (2, 1), struct.pack(">HH", 65535, 32768))
    i32 = Image.fromarray(np.array([[0, 65535]], dtype=np.int32), mode="I")
    f32 = Image.fromarray(np.array([[0.0, 0.5, 1.0]], dtype=np.float32), mode="F")
    for im, expected in ((big, [255, 128]), (i32, [0, 255]), (f32, [0, 128, 255])):
        buf = io.BytesIO()
        im.save(buf, "TIFF")
        out = load_image_bytes(buf.getvalue())
        assert list(out[0, :, 1]) == expected, im.mode


def test_cmyk_jpeg_colours_survive(tmp_path):
    rgb = np.zeros((32, 32, 3), np.uint8)
    rgb[:, :16] = (220, 30, 30)
    rgb[:, 16:] = (30, 30, 220)
    path = tmp_path / "print.jpg"
    Image.fromarray(rgb).convert("CMYK").save(path, quality=95)
    assert Image.open(path).mode == "CMYK"
    out = load_image(path).astype(int)
    assert np.abs(out[8, 4] - (220, 30, 30)).max() < 25
    assert np.abs(out[8, 28] - (30, 30, 220)).max() < 25


def test_palette_png_with_transparency_is_composited_on_white(tmp_path):
    indices = np.array([[0, 1], [1, 2]], np.uint8)
    im = Image.fromarray(indices, mode="P")
    im.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * 759)
    path = tmp_path / "pal.png"
    im.save(path, transparency=1)
    out = load_image(path)
    assert tuple(out[0, 0]) == (255, 0, 0)
    assert tuple(out[0, 1]) == (255, 255, 255)
    assert tuple(out[1, 0]) == (255, 255, 255)
    assert tuple(out[1, 1]) == (0, 0, 255)
    assert tuple(Image.open(path).convert("RGB").getpixel((1, 0))) == (0, 255, 0)  # hidden colour


def test_palette_png_without_transparency(tmp_path):
    im = Image.fromarray(np.array([[0, 1]], np.uint8), mode="P")
    im.putpalette([10, 20, 30, 40, 50, 60] + [0] * 762)
    path = tmp_path / "pal.png"
    im.save(path)
    out = load_image(path)
    assert tuple(out[0, 0]) == (10, 20, 30) and tuple(out[0, 1]) == (40, 50, 60)


def test_rgba_is_composited_on_white(tmp_path):
    rgba = np.zeros((1, 3, 4), np.uint8)
    rgba[0, 0] = (200, 0, 0, 255)
    rgba[0, 1] = (200, 0, 0, 0)
    rgba[0, 2] = (0, 0, 0, 128)
    path = tmp_path / "alpha.png"
    Image.fromarray(rgba, mode="RGBA").save(path)
    out = load_image(path)
    assert tuple(out[0, 0]) == (200, 0, 0)
    assert tuple(out[0, 1]) == (255, 255, 255)
    assert tuple(out[0, 2]) == (127, 127, 127)


def test_gray_and_gray_alpha(tmp_path):
    gray = np.array([[0, 100, 255]], np.uint8)
    Image.fromarray(gray, mode="L").save(tmp_path / "g.png")
    out = load_image(tmp_path / "g.png")
    assert out.shape == (1, 3, 3)
    np.testing.assert_array_equal(out[..., 0], gray)
    np.testing.assert_array_equal(out[..., 2], gray)
    la = Image.fromarray(np.array([[[100, 255], [100, 0]]], np.uint8), mode="LA")
    la.save(tmp_path / "la.png")
    out = load_image(tmp_path / "la.png")
    assert tuple(out[0, 0]) == (100, 100, 100) and tuple(out[0, 1]) == (255, 255, 255)


def test_one_bit_image(tmp_path):
    Image.fromarray(np.array([[True, False]])).convert("1").save(tmp_path / "b.png")
    out = load_image(tmp_path / "b.png")
    assert tuple(out[0, 0]) == (255, 255, 255) and tuple(out[0, 1]) == (0, 0, 0)


def test_exif_orientation_is_applied(tmp_path):
    rgb = np.zeros((20, 40, 3), np.uint8)
    rgb[:5, :5] = (255, 0, 0)  # stored top-left corner
    im = Image.fromarray(rgb)
    exif = im.getexif()
    exif[0x0112] = 6  # the viewer turns it 90 degrees clockwise
    path = tmp_path / "phone.jpg"
    im.save(path, exif=exif, quality=95)
    out = load_image(path)
    assert out.shape == (40, 20, 3)
    assert out[2, 17, 0] > 200 and out[2, 17, 1] < 60   # now the top-right corner
    assert out[2, 2, 0] < 60


def test_huge_declared_size_is_refused_before_decoding(tmp_path):
    bomb = _with_declared_size(_png_bytes(np.zeros((8, 8, 3), np.uint8)), 30000, 30000)
    path = tmp_path / "bomb.png"
    path.write_bytes(bomb)
    assert len(bomb) < 200
    start = time.perf_counter()
    with pytest.raises(ImageError, match=r"bomb.png declares 900,000,000 pixels, more than the limit"):
        load_image(path)
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize("width, height", [(9000, 8000), (10000, 10000)])
def test_size_over_our_limit_names_the_dimensions(width, height):
    bomb = _with_declared_size(_png_bytes(np.zeros((8, 8, 3), np.uint8)), width, height)
    with pytest.raises(ImageError, match=rf"pasted image declares {width}x{height} pixels .* "
                                         r"more than the limit of 64,000,000"):
        load_image_bytes(bomb)


def test_pixel_limit_is_configurable(noise):
    data = _png_bytes(noise)
    with pytest.raises(ImageError, match="80x60 pixels"):
        load_image(data, max_pixels=4000)
    assert load_image(data, max_pixels=4800).shape == (60, 80, 3)


def test_save_refuses_bad_arrays_and_paths(tmp_path, noise):
    with pytest.raises(ImageError, match="expected an RGB uint8"):
        save_image(tmp_path / "x.png", noise.astype(np.float32))
    with pytest.raises(ImageError, match="unknown image format '.xyz'"):
        save_image(tmp_path / "x.xyz", noise)
    with pytest.raises(ImageError, match="does not exist"):
        save_image(tmp_path / "missing" / "x.png", noise)
    assert list(tmp_path.iterdir()) == []


def test_save_jpeg_is_close(tmp_path):
    smooth = np.tile(np.linspace(0, 255, 64, dtype=np.uint8)[None, :, None], (32, 1, 3))
    out = load_image(save_image(tmp_path / "s.jpg", smooth))
    assert np.abs(out.astype(int) - smooth).max() < 8


def test_as_rgb_conventions():
    assert as_rgb(np.array([[0.0, 1.0]])).tolist() == [[[0, 0, 0], [255, 255, 255]]]
    assert as_rgb(np.full((2, 2, 1), 7, np.uint8))[1, 1].tolist() == [7, 7, 7]
    assert as_rgb(np.array([[65535]], np.uint16))[0, 0].tolist() == [255, 255, 255]
    with pytest.raises(ImageError, match="shape"):
        as_rgb(np.zeros((2, 2, 2), np.uint8))
    with pytest.raises(ImageError, match="NaN"):
        as_rgb(np.array([[np.nan]]))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_turns_the_picture_as_pillow_does(tmp_path, orientation):
    from PIL import ImageOps
    rgb = np.zeros((6, 10, 3), np.uint8)
    rgb[:2, :3] = (255, 0, 0)      # a red top-left corner and a green right edge
    rgb[:, 9] = (0, 255, 0)
    im = Image.fromarray(rgb)
    exif = im.getexif()
    exif[0x0112] = orientation
    path = tmp_path / f"turned{orientation}.png"
    im.save(path, exif=exif)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
    out = load_image(path)
    assert out.shape == ((10, 6, 3) if orientation >= 5 else (6, 10, 3))
    np.testing.assert_array_equal(out, expected)
    assert out.flags.c_contiguous and out.flags.writeable


def test_decoding_memory_is_budgeted_from_the_header_and_named(tmp_path):
    from workbench.core.images import DEFAULT_MAX_BYTES, decoded_bytes
    assert decoded_bytes(100, 10, "RGBA") == 100 * 10 * (4 + 3)    # Pillow's pixels + the RGB array
    assert decoded_bytes(100, 10, "I;16") == 100 * 10 * (2 + 3)
    assert decoded_bytes(100, 10, "L") == 100 * 10 * (1 + 3)
    assert decoded_bytes(8000, 8000, "RGBA") <= DEFAULT_MAX_BYTES   # every image within the pixel limit fits
    path = tmp_path / "wide.png"
    path.write_bytes(_with_declared_size(_png_bytes(np.zeros((8, 8, 3), np.uint8)), 4000, 2500))
    start = time.perf_counter()
    with pytest.raises(ImageError, match=r"wide.png is 4000x2500 pixels in RGB mode: decoding it takes "
                                         r"about 70 MB, more than the limit of 50 MB"):
        load_image(path, max_bytes=50_000_000)
    assert time.perf_counter() - start < 0.5


def _encoded(array: np.ndarray, mode: str | None = None, fmt: str = "PNG", **options) -> bytes:
    im = Image.fromarray(array) if mode is None else Image.fromarray(array).convert(mode)
    buf = io.BytesIO()
    im.save(buf, fmt, **options)
    return buf.getvalue()


def _ramp(h: int = 2000, w: int = 2000) -> np.ndarray:
    return np.tile(np.arange(w, dtype=np.uint32) % 256, (h, 1)).astype(np.uint8)


@pytest.mark.parametrize("kind", ["RGB", "RGBA", "LA", "P", "I;16", "F", "I", "CMYK"])
def test_decoding_holds_one_rgb_array_and_small_bands(kind):
    import tracemalloc
    g = _ramp()
    data = {"RGB": lambda: _encoded(np.stack([g] * 3, -1)),
            "RGBA": lambda: _encoded(np.stack([g] * 4, -1)),
            "LA": lambda: _encoded(np.stack([g] * 2, -1)),
            "P": lambda: _encoded(g % 3, "P", transparency=1),
            "I;16": lambda: _encoded(g.astype(np.uint16) * 200),
            "F": lambda: _encoded(g.astype(np.float32) * 3.5, fmt="TIFF"),
            "I": lambda: _encoded(g.astype(np.int32) * 1000 - 5, fmt="TIFF"),
            "CMYK": lambda: _encoded(np.stack([g] * 3, -1), "CMYK", fmt="JPEG")}[kind]()
    assert Image.open(io.BytesIO(data)).mode == kind
    tracemalloc.start()
    try:
        out = load_image_bytes(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out.shape == (2000, 2000, 3)
    # beyond the 12 MB result, only a band at a time (whole-image float, 16-bit or 32-bit copies: 12-180 MB)
    assert peak - out.nbytes < 8_000_000, f"{kind}: {(peak - out.nbytes) / 1e6:.1f} MB beyond the result"


def test_in_memory_arrays_are_converted_in_bands():
    import tracemalloc
    rng = np.random.default_rng(0)
    for array in (rng.random((2000, 2000)), rng.random((2000, 2000, 4)).astype(np.float32),
                  rng.integers(0, 65536, (2000, 2000, 3)).astype(np.uint16)):
        tracemalloc.start()
        try:
            out = as_rgb(array)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert out.shape == (2000, 2000, 3)
        assert peak - out.nbytes < 12_000_000, f"{array.dtype} {array.shape}: {(peak - out.nbytes) / 1e6:.1f} MB"


def test_values_are_scaled_by_the_whole_image_range_across_bands():
    tall = np.zeros((3000, 200), np.float32)   # several bands; the extremes are in the first and last
    tall[0, 0], tall[-1, -1], tall[1500, 7] = -2.0, 6.0, 2.0
    out = as_rgb(tall)
    assert out[0, 0, 0] == 0 and out[-1, -1, 0] == 255 and out[1500, 7, 0] == 128 and out[5, 5, 0] == 64
    with pytest.raises(ImageError, match="NaN"):
        bad = tall.copy()
        bad[2999, 0] = np.nan
        as_rgb(bad)
    ints = np.zeros((3000, 200), np.int32)
    ints[-1, -1] = 70000            # beyond 16 bits: stretched from 0 to 70000
    assert as_rgb(ints)[-1, -1, 0] == 255 and as_rgb(ints)[0, 0, 0] == 0


def test_rgba_compositing_is_exact_for_every_colour_and_alpha():
    c, a = np.meshgrid(np.arange(256), np.arange(256))
    rgba = np.stack([c, c, c, a], -1).astype(np.uint8)
    expected = (c * a + 255 * (255 - a) + 127) // 255
    np.testing.assert_array_equal(as_rgb(rgba)[..., 1], expected)


def test_an_image_just_under_the_limit_costs_its_decoded_size_in_memory(tmp_path):
    """Peak RSS of a fresh process loading a 16 Mpx solid RGBA PNG (a few kB on disk)."""
    import subprocess
    import sys
    path = tmp_path / "solid.png"
    Image.new("RGBA", (4000, 4000), (200, 30, 60, 128)).save(path)
    assert path.stat().st_size < 200_000
    code = ("import resource, sys\n"
            "from workbench.core.images import decoded_bytes, load_image\n"
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "out = load_image(sys.argv[1])\n"
            "grew = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024\n"
            "print(grew, decoded_bytes(4000, 4000, 'RGBA'), out.shape)\n")
    run = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    grew, budget, shape = run.stdout.split(maxsplit=2)
    assert shape.strip() == "(4000, 4000, 3)"
    assert int(grew) < 1.25 * int(budget), f"grew {int(grew) / 1e6:.0f} MB for a {int(budget) / 1e6:.0f} MB budget"
