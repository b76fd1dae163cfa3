"""Templates: the schema of meta.json / index.json and the store that keeps them."""
