"""The Captions tab: a captioner's caption, word by word, with each word's attention."""
