"""Prediction arguments: defaults per API generation, ranges, and messages that name the argument."""

import pytest

from yolohost.inference.args import HUB_IOU, PLATFORM_IOU, PredictArgs, parse
from yolohost.kit.errors import Invalid


def test_defaults():
    assert parse({}) == PredictArgs(imgsz=640, conf=0.25, iou=PLATFORM_IOU, normalize=False, decimals=5, vid_stride=1)
    assert parse({}, iou_default=HUB_IOU).iou == 0.45


def test_values_from_form_strings_and_json_types():
    args = parse({"imgsz": "320", "conf": "0.5", "iou": 0.3, "normalize": "true", "decimals": 3, "vid_stride": "2"})
    assert args == PredictArgs(imgsz=320, conf=0.5, iou=0.3, normalize=True, decimals=3, vid_stride=2)
    assert parse({"normalize": False}).normalize is False
    assert parse({"imgsz": " "}).imgsz == 640  # empty form fields mean "not given"


def test_renamed_fields_of_the_v1_api():
    args = parse({"size": "416", "confidence": "0.4"}, names={"imgsz": "size", "conf": "confidence"})
    assert (args.imgsz, args.conf) == (416, 0.4)


@pytest.mark.parametrize(
    "values, message",
    [
        ({"imgsz": "31"}, "imgsz must be an integer from 32 to 1280; got '31'"),
        ({"imgsz": "1281"}, "imgsz must be an integer from 32 to 1280"),
        ({"imgsz": "640.5"}, "imgsz must be an integer"),
        ({"conf": "0"}, "conf must be a number from 0.01 to 1.0; got '0'"),
        ({"conf": "abc"}, "conf must be a number from 0.01 to 1.0"),
        ({"conf": "nan"}, "conf must be a number"),
        ({"iou": "0.96"}, "iou must be a number from 0.0 to 0.95"),
        ({"decimals": "11"}, "decimals must be an integer from 0 to 10"),
        ({"normalize": "maybe"}, "normalize must be true or false"),
        ({"vid_stride": "0"}, "vid_stride must be an integer from 1"),
        ({"bits": "7"}, "bits must be 8, 12 or 16"),
    ],
)
def test_out_of_range_or_wrong_type_names_the_argument(values, message):
    with pytest.raises(Invalid) as err:
        parse(values)
    assert message in err.value.message


def test_v1_messages_use_the_v1_names():
    with pytest.raises(Invalid, match="size must be an integer from 32 to 1280"):
        parse({"size": "2000"}, names={"imgsz": "size"})
