"""Give a trained MixIT enhancement model (model file or checkpoint) a speech detector, and
write the result as a model file: inference then adds each further output weighted by its
speech probability.

    python recipes/mixit/attach_speech_detector.py runs/mixit/checkpoints/last.ckpt \
        runs/speech_detector/speech_detector.pt --out runs/mixit/model_detector.pt

(Training with `task.speech_detector` does this itself and also selects the checkpoint with
the detector in place.)
"""
import argparse
import sys

from sepssl import load_model
from sepssl.errors import SepsslError
from sepssl.models import Enhancer
from sepssl.models.speech_detector import model_file_entry


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", help="a MixIT enhancement model file or checkpoint")
    p.add_argument("detector", help="a file from recipes/mixit/train_speech_detector.py")
    p.add_argument("--out", required=True, help="model file to write")
    a = p.parse_args(argv)
    try:
        data = load_model(a.model).to_dict()
        if data["n_outputs"] <= len(data["speech_outputs"]):
            raise SepsslError(f"{a.model}: every output is already speech; a detector has "
                              "nothing to choose")
        data["speech_detector"] = model_file_entry(a.detector)
        Enhancer.from_dict(data).save(a.out)
    except SepsslError as exc:
        print(f"attach_speech_detector: error: {exc}", file=sys.stderr)
        return 2
    print(f"model with speech detector written to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
