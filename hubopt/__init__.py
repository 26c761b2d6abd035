"""hubopt: multimodal transport hub optimizer.

Importing hubopt has no side effects and loads no heavy dependency; the
subpackages are imported on use (``hubopt.models``, ``hubopt.instances``, ...).
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
