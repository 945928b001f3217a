"""EmotionEdit: continuous, lip-preserving facial emotion editing of talking-face footage.

The pipeline, one module per stage: ``io`` (decode/encode), ``track`` (dense
landmarks), ``fit`` (pose, neutral face, AU coefficients), ``edit`` (emotion,
intensity, lip preservation), ``render`` (displacement field, matte, pixels);
``engine`` ties them together and ``cli`` is the command line.
"""

__version__ = "0.1.0"
