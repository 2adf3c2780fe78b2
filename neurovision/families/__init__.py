"""Model families: everything about one family (network, variants, training protocol, released
weights, experiment functions) in one package. Families use the core; the core imports no family."""
