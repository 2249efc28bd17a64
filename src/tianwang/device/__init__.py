"""Device resolution (设备指纹) on the server: the SDK's raw attribute set and first-party token
become a stable device_id with a confidence, a history and risk signals.

attrs.py (the attribute set's contract, `normalise_attrs`, `DeviceError`), registry.py (one
tenant's devices, `DeviceRegistry.resolve`), signals.py (what one attribute set says about itself).
"""

from tianwang.device.attrs import DeviceError, normalise_attrs
from tianwang.device.registry import DeviceRegistry, Resolution
from tianwang.device.signals import risk_signals

__all__ = ["DeviceError", "DeviceRegistry", "Resolution", "normalise_attrs", "risk_signals"]
