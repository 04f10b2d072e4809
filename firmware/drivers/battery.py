"""Battery voltage through a resistor divider on an ADC1 pin (ADC2 fails while Wi-Fi is on).

Uses the ESP32's calibrated read_uv() at 11 dB attenuation and averages a few samples.

    bat = Battery(ADC(Pin(35), atten=ADC.ATTN_11DB), divider_x1000=2000)
    mv = bat.read_mv()
"""

# MicroPython has no typing module; type checkers take any TYPE_CHECKING as true.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from machine import ADC


class Battery:
    """Battery millivolts from a divided ADC reading."""

    def __init__(self, adc: "ADC", divider_x1000: int, samples: int = 8) -> None:
        if not 1000 <= divider_x1000 <= 4000:
            raise ValueError("divider_x1000: must be 1000..4000")
        if samples < 1:
            raise ValueError("samples: must be >= 1")
        self.adc = adc
        self.divider_x1000 = divider_x1000
        self.samples = samples

    def read_mv(self) -> int:
        """Battery voltage in mV (pin microvolts x divider ratio), averaged."""
        total = 0
        for _ in range(self.samples):
            total += self.adc.read_uv()
        return total * self.divider_x1000 // (self.samples * 1_000_000)
