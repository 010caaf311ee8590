"""Batch runs: one method over every image of a folder, a glob or a bundled dataset, in this process or
on Ray, resumable, written as one npz per image plus a Parquet index."""
