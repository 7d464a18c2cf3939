"""The claim itself: models, status machine, rules, money. Pure: no I/O."""
