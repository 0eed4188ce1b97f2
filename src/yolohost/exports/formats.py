"""The export formats of the reference and what each needs on this machine to run.

A format works here when the Python modules (and tools) its ultralytics converter uses are
installed; the check runs per request, so installing a converter makes its format available
without a restart. Nothing is ever installed on demand.
"""

from __future__ import annotations

import importlib.util
import shutil
from dataclasses import dataclass

_ONNX = ("onnx", "onnxslim", "onnxruntime")
_TENSORFLOW = ("tensorflow", "tf_keras", "onnx2tf", "sng4onnx", "onnx_graphsurgeon", "ai_edge_litert", *_ONNX)


@dataclass(frozen=True, slots=True)
class Format:
    name: str  # the API's value and ultralytics' `format=`
    label: str
    suffix: str  # what ultralytics writes: a file suffix (".onnx") or a directory suffix ("_openvino_model")
    modules: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()
    gpu: bool = False

    @property
    def is_directory(self) -> bool:
        return not self.suffix.startswith(".")

    def file_name(self, stem: str) -> str:
        """The downloadable file: a directory format comes zipped."""
        return f"{stem}{self.suffix}.zip" if self.is_directory else f"{stem}{self.suffix}"

    def missing(self) -> list[str]:
        """What this machine lacks to run the converter (empty: it can run)."""
        lacking = [m for m in self.modules if importlib.util.find_spec(m) is None]
        lacking += [f"the `{t}` program" for t in self.tools if shutil.which(t) is None]
        if self.gpu and not lacking and not _cuda():
            lacking.append("a CUDA GPU")
        return lacking


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("torchscript", "TorchScript", ".torchscript"),
    Format("onnx", "ONNX", ".onnx", _ONNX),
    Format("openvino", "OpenVINO", "_openvino_model", ("openvino",)),
    Format("engine", "TensorRT", ".engine", ("tensorrt", *_ONNX), gpu=True),
    Format("coreml", "CoreML", ".mlpackage", ("coremltools",)),
    Format("coreai", "Core AI", ".aimodel", ("coreai_torch",)),
    Format("saved_model", "TensorFlow SavedModel", "_saved_model", _TENSORFLOW),
    Format("pb", "TensorFlow GraphDef", ".pb", _TENSORFLOW),
    Format("edgetpu", "TensorFlow Edge TPU", "_edgetpu.tflite", _TENSORFLOW, ("edgetpu_compiler",)),
    Format("litert", "LiteRT", ".tflite", ("litert_torch", "ai_edge_litert")),
    Format("paddle", "PaddlePaddle", "_paddle_model", ("paddle", "x2paddle")),
    Format("mnn", "MNN", ".mnn", ("MNN", *_ONNX)),
    Format("ncnn", "NCNN", "_ncnn_model", ("ncnn", "pnnx")),
    Format("imx", "IMX", "_imx_model", ("model_compression_toolkit", "edgemdt_cl", "edgemdt_tpc", "onnx"), ("java",)),
    Format("rknn", "RKNN", "_rknn_model", ("rknn", "onnx")),
    Format("executorch", "ExecuTorch", "_executorch_model", ("executorch",)),
    Format("axelera", "Axelera AI", "_axelera_model", ("axelera", "onnx")),
    Format("deepx", "DEEPX", "_deepx_model", ("dx_com", "onnx")),
    Format("qnn", "Qualcomm QNN", "_qnn.onnx", ("onnxruntime_qnn", "onnx")),
    Format("hailo", "Hailo", "_hailo_model", ("hailo_sdk_client", "onnx")),
    Format("ascend", "Huawei Ascend", "_ascend_model", ("onnx",), ("atc",)),
    Format("xilinx", "AMD Xilinx", "_xilinx_model", ("quark", *_ONNX)),
)}

#: Older names in the seed reference's format table.
ALIASES = {"tensorrt": "engine", "tflite": "litert", "graphdef": "pb"}

#: Formats whose exports can serve predictions here (``runtime`` of a predict call).
SERVABLE = ("torchscript", "onnx", "openvino")


def available() -> list[str]:
    return [name for name, fmt in FORMATS.items() if not fmt.missing()]
