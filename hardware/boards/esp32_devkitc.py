"""ESP32-DevKitC (ESP32-WROOM-32E)."""

from hardware.boards.schema import Board

BOARD: Board = {
    "name": "esp32-devkitc",
    "pins": {
        "hx711_dout": 32, "hx711_sck": 33,            # load cell amplifier
        "us_trigger": 25, "us_echo": 26,              # JSN-SR04T ultrasonic
        "i2c_sda": 21, "i2c_scl": 22,                 # VL53L1X time-of-flight (alternative)
        "battery_adc": 35,                            # ADC1_CH7, input only
        "sensor_power": 27,                           # switches the sensor rail off in sleep
        "lid_switch": 4,                              # RTC GPIO: wakes the board (ext0)
        "onewire": 13,                                # DS18B20
        "tilt_switch": 14,                            # optional
    },
    # ADC1 channels (usable with Wi-Fi on); ADC2 (0, 2, 4, 12-15, 25-27) is not.
    "adc1_pins": (32, 33, 34, 35, 36, 39),
    "rtc_pins": (0, 2, 4, 12, 13, 14, 15, 25, 26, 27, 32, 33, 34, 35, 36, 39),
    # Strapping pins (0, 2, 5, 12, 15) and the SPI flash (6-11).
    "forbidden_pins": (0, 2, 5, 6, 7, 8, 9, 10, 11, 12, 15),
    "wake_pins": ("lid_switch",),
    "adc_atten_db": 11,
    "divider_ratio": 2.0,                             # 100k / 100k
}
