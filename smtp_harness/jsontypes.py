"""What JSON documents hold, named once: API bodies, fault objects, message summaries."""

from typing import Any

# A decoded JSON value: str, int, float, bool, None, or lists and str-keyed objects of them.
# Named here so that signatures say what they carry; Any underneath, as json.loads returns it.
Json = Any
JsonObject = dict[str, Json]
