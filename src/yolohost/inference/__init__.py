"""The model runtime: input decoding, checkpoint loading, the model cache and predictions."""
