"""The bottom layer: what the product is (models, rules, query types, display wording), free of I/O.

It imports nothing of ours but the message catalogs, errors and the text sanitizer; every other
layer may import it."""
