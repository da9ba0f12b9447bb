"""Heavy models behind small interfaces: embedders, whisper, LoRA training, ONNX/OpenVINO export."""
