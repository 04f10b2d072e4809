"""ESP32-C3 (ESP32-C3-DevKitM-1)."""

from hardware.boards.schema import Board

BOARD: Board = {
    "name": "esp32-c3",
    "pins": {
        "hx711_dout": 6, "hx711_sck": 7,
        "us_trigger": 10, "us_echo": 1,
        "i2c_sda": 8, "i2c_scl": None,                # I2C shares 8 with the LED: ToF unused
        "battery_adc": 0,                             # ADC1_CH0
        "sensor_power": 20,
        "lid_switch": 3,                              # GPIO0-5 can wake from deep sleep
        "onewire": 21,
        "tilt_switch": None,
    },
    # ADC1 is GPIO0-4; ADC2 (GPIO5) fails while Wi-Fi is on.
    "adc1_pins": (0, 1, 2, 3, 4),
    "rtc_pins": (0, 1, 2, 3, 4, 5),
    # Strapping pins 2 and 9, SPI flash 11-17, USB 18-19.
    "forbidden_pins": (2, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19),
    "wake_pins": ("lid_switch",),
    "adc_atten_db": 11,
    "divider_ratio": 2.0,
}
