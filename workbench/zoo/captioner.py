"""The bundled captioner: Show, Attend and Tell (Xu et al. 2015) on the shapes scenes.

A small CNN turns a 128x128 scene into a 16x16 grid of features (stride 8) with a learned
position embedding added, so a context vector also says where it was read. An LSTM writes
the caption one word at a time; before each word it scores every grid cell against its
previous state (additive attention, Bahdanau et al. 2015), reads the softmax-weighted mean of
the features, and scales that read by a gate in [0, 1] computed from the state. The initial
state is learned and the same for every image: all that the decoder knows about a scene
comes through its attention.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from workbench.zoo.nets import conv_stack
from workbench.zoo.shapes import COLOR_NAMES, SHAPE_CLASSES

SPECIALS = ("<pad>", "<start>", "<end>")
PAD, START, END = 0, 1, 2
RELATION_WORDS = ("left", "right", "of", "above", "below")
# Every word the caption grammar of ``shapes.make_caption`` can write.
VOCABULARY: tuple[str, ...] = (*SPECIALS, "a", "an", *COLOR_NAMES, *SHAPE_CLASSES,
                               *RELATION_WORDS, "nothing")
WORD_INDEX = {w: i for i, w in enumerate(VOCABULARY)}
MAX_WORDS = 8  # the longest caption: "a red star left of a blue circle"

CAPTIONER = {"widths": (16, 32, 64, 128), "context_width": 128, "grid": 16, "embed": 64,
             "hidden": 256, "attention": 128, "dropout": 0.2}


def encode_caption(caption: str, length: int = MAX_WORDS + 2) -> list[int]:
    """"a red star" -> [<start>, a, red, star, <end>, <pad>, ...] of ``length`` indices."""
    words = caption.split()
    unknown = [w for w in words if w not in WORD_INDEX]
    if unknown:
        raise ValueError(f"{unknown[0]!r} is not in the captioner's vocabulary")
    ids = [START, *(WORD_INDEX[w] for w in words), END]
    if len(ids) > length:
        raise ValueError(f"caption of {len(words)} words is longer than {length - 2}")
    return ids + [PAD] * (length - len(ids))


def describe(config: dict = CAPTIONER) -> str:
    c = config
    widths = "-".join(str(w) for w in c["widths"])
    return (f"Show, Attend and Tell: conv-BN-ReLU encoder {widths} (max-pools after the first "
            f"three, stride 8) and a dilated 3x3 conv to {c['context_width']}, plus a learned "
            f"{c['grid']}x{c['grid']} position embedding; LSTMCell decoder (hidden "
            f"{c['hidden']}, word embedding {c['embed']}) with additive soft attention "
            f"(dim {c['attention']}) over the {c['grid'] ** 2} cells, a gating scalar on the "
            f"context, deep output layer; learned initial state")


def grid_sinusoids(grid: int, width: int, scale: float = 0.5) -> torch.Tensor:
    """(grid * grid, width): sines and cosines of each cell's column and row at width / 4
    frequencies, the position embedding's starting point (it is learned from there)."""
    rows, cols = np.mgrid[0:grid, 0:grid].reshape(2, -1) / grid
    freqs = np.pi * (np.arange(width // 4) + 1) / 4
    waves = [f(c[:, None] * freqs) for c in (cols, rows) for f in (np.sin, np.cos)]
    return torch.from_numpy(scale * np.concatenate(waves, 1)).float()


@dataclass
class Caption:
    """One decoded caption: its words (without <start>/<end>), for each word the attention
    map it was written with (n_words x grid x grid, each summing to 1), and the probability
    the decoder gave each word."""
    words: list[str]
    maps: np.ndarray
    probs: np.ndarray
    log_prob: float

    @property
    def text(self) -> str:
        return " ".join(self.words)


class ShowAttendTell(nn.Module):
    description = describe()

    def __init__(self, config: dict = CAPTIONER, vocabulary: tuple[str, ...] = VOCABULARY):
        super().__init__()
        c = dict(config)
        width, grid = c["context_width"], c["grid"]
        self.grid = grid
        self.vocabulary = vocabulary
        self.features = conv_stack(3, c["widths"], (True, True, True, False))
        self.context = nn.Sequential(
            nn.Conv2d(c["widths"][-1], width, 3, padding=2, dilation=2, bias=False),
            nn.BatchNorm2d(width), nn.ReLU())
        self.position = nn.Parameter(grid_sinusoids(grid, width))
        hidden, embed, att = c["hidden"], c["embed"], c["attention"]
        self.embed = nn.Embedding(len(vocabulary), embed)
        self.att_features = nn.Linear(width, att)
        self.att_state = nn.Linear(hidden, att)
        self.att_score = nn.Linear(att, 1)
        self.gate = nn.Linear(hidden, 1)
        self.lstm = nn.LSTMCell(embed + width, hidden)
        self.h0 = nn.Parameter(torch.zeros(hidden))
        self.c0 = nn.Parameter(torch.zeros(hidden))
        self.out_state = nn.Linear(hidden, embed)
        self.out_context = nn.Linear(width, embed)
        self.dropout = nn.Dropout(c["dropout"])
        self.out_words = nn.Linear(embed, len(vocabulary))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, 128, 128) -> (B, cells, width) features, cells in row-major order."""
        f = self.context(self.features(x))
        if f.shape[-2:] != (self.grid, self.grid):
            raise ValueError(f"the captioner eats 128x128 images (a {self.grid}x{self.grid} "
                             f"grid), got a {tuple(f.shape[-2:])} grid")
        return f.flatten(2).transpose(1, 2) + self.position

    def initial_state(self, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.h0.expand(batch, -1).contiguous(), self.c0.expand(batch, -1).contiguous()

    def step(self, feats: torch.Tensor, keys: torch.Tensor, word: torch.Tensor,
             state: tuple[torch.Tensor, torch.Tensor]):
        """One word: (logits (B, V), attention (B, cells), new state). ``keys`` is
        ``att_features(feats)``, computed once per image."""
        h, c = state
        scores = self.att_score(torch.tanh(keys + self.att_state(h).unsqueeze(1))).squeeze(-1)
        alpha = scores.softmax(-1)
        context = torch.sigmoid(self.gate(h)) * (alpha.unsqueeze(-1) * feats).sum(1)
        e = self.embed(word)
        h, c = self.lstm(torch.cat([e, context], -1), (h, c))
        logits = self.out_words(self.dropout(e + self.out_state(h) + self.out_context(context)))
        return logits, alpha, (h, c)

    def forward(self, x: torch.Tensor, tokens: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher forcing: ``tokens`` (B, T) starting with <start> -> logits (B, T-1, V)
        predicting tokens[:, 1:], and the attention (B, T-1, cells) behind each. Without
        ``tokens``, each step is fed the previous step's most likely word (MAX_WORDS + 1 steps),
        so the model also runs on an image alone (as layer and activation views call it)."""
        feats = self.encode(x)
        keys = self.att_features(feats)
        state = self.initial_state(len(x))
        steps = MAX_WORDS + 1 if tokens is None else tokens.shape[1] - 1
        word = torch.full((len(x),), START, dtype=torch.long, device=x.device)
        logits, alphas = [], []
        for t in range(steps):
            if tokens is not None:
                word = tokens[:, t]
            out, alpha, state = self.step(feats, keys, word, state)
            word = never_start(out.detach()).argmax(-1)
            logits.append(out)
            alphas.append(alpha)
        return torch.stack(logits, 1), torch.stack(alphas, 1)

    @torch.no_grad()
    def greedy(self, x: torch.Tensor, max_words: int = MAX_WORDS) -> list[Caption]:
        """The most likely next word at every step, for a batch of images."""
        feats = self.encode(x)
        keys = self.att_features(feats)
        state = self.initial_state(len(x))
        word = torch.full((len(x),), START, dtype=torch.long, device=x.device)
        steps = []
        for _ in range(max_words + 1):
            logits, alpha, state = self.step(feats, keys, word, state)
            prob, word = never_start(logits).softmax(-1).max(-1)
            steps.append((word, alpha, prob))
        return [self._caption([(w[i], a[i], p[i]) for w, a, p in steps], max_words)
                for i in range(len(x))]

    @torch.no_grad()
    def beam_search(self, x: torch.Tensor, beam_size: int = 3,
                    max_words: int = MAX_WORDS) -> Caption:
        """The caption of highest total log-probability among ``beam_size`` hypotheses kept
        at each step, for one image (1, 3, H, W); beam 1 is greedy decoding."""
        if x.shape[0] != 1:
            raise ValueError("beam search decodes one image at a time")
        feats = self.encode(x)
        keys = self.att_features(feats)
        state = self.initial_state(1)
        beams = [(0.0, [START], [], [])]  # (log-prob, tokens, alphas, probs)
        done = []
        for _ in range(max_words + 1):
            n = len(beams)
            word = torch.tensor([b[1][-1] for b in beams], device=x.device)
            logits, alpha, state = self.step(feats.expand(n, -1, -1), keys.expand(n, -1, -1),
                                             word, state)
            logp = never_start(logits).log_softmax(-1)
            total = logp + torch.tensor([b[0] for b in beams], device=x.device).unsqueeze(1)
            top = total.flatten().topk(min(beam_size - len(done), total.numel()))
            keep, new = [], []
            for score, flat in zip(top.values.tolist(), top.indices.tolist()):
                i, w = divmod(flat, logp.shape[1])
                lp, toks, alphas, probs = beams[i]
                hyp = (score, toks + [w], alphas + [alpha[i]], probs + [logp[i, w].exp()])
                (done if w == END else new).append(hyp)
                if w != END:
                    keep.append(i)
            if not new or len(done) >= beam_size:
                break
            beams = new
            index = torch.tensor(keep, device=x.device)
            state = (state[0][index], state[1][index])
        best = max(done or beams, key=lambda b: b[0])
        steps = [(torch.tensor(w), a, p) for w, a, p in zip(best[1][1:], best[2], best[3])]
        return self._caption(steps, max_words)

    def _caption(self, steps, max_words: int) -> Caption:
        """The words up to <end> (at most ``max_words``), their maps and probabilities; the
        log-probability counts <end> too when the caption reached it."""
        words, maps, probs, log_prob = [], [], [], 0.0
        for word, alpha, prob in steps:
            w = int(word)
            if w in (END, PAD):
                log_prob += float(np.log(max(float(prob), 1e-12)))
                break
            if len(words) == max_words:
                break
            words.append(self.vocabulary[w])
            maps.append(alpha.reshape(self.grid, self.grid).float().cpu().numpy())
            probs.append(float(prob))
            log_prob += float(np.log(max(float(prob), 1e-12)))
        shape = (len(maps), self.grid, self.grid)
        return Caption(words=words, maps=np.stack(maps) if maps else np.zeros(shape, np.float32),
                       probs=np.asarray(probs, dtype=np.float64), log_prob=log_prob)


def never_start(logits: torch.Tensor) -> torch.Tensor:
    """Logits with <pad> and <start> ruled out: a decoder never writes them."""
    logits = logits.clone()
    logits[:, [PAD, START]] = float("-inf")
    return logits


def caption(model: ShowAttendTell, x: torch.Tensor, beam_size: int = 1,
            max_words: int = MAX_WORDS) -> Caption:
    """Decode one image (1, 3, H, W): greedy for beam 1, beam search above."""
    if beam_size < 1:
        raise ValueError(f"beam size must be at least 1, got {beam_size}")
    model.eval()
    if beam_size == 1:
        return model.greedy(x, max_words)[0]
    return model.beam_search(x, beam_size, max_words)


def noun_positions(words: list[str]) -> list[int]:
    """Indices of the shape nouns in a caption."""
    return [i for i, w in enumerate(words) if w in SHAPE_CLASSES]
