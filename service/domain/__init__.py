"""The domain: windows, fetch planning, the delta engine, saturation, calibration, caches."""
