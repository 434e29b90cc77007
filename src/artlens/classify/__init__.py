"""Image classifiers trained on frozen backbone features: datasets, linear heads, prediction."""
