"""Model exports: converting a checkpoint to ONNX, OpenVINO, TorchScript and the other formats of the reference."""
