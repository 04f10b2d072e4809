# main.py: copied to the device's root by `binfleet firmware build`. MicroPython runs
# it after boot.py on every boot, and each deep-sleep wake is a boot. One wake, then
# deep sleep: firmware/app.py has the life cycle, firmware/device/esp32.py the chip.
import machine

try:
    from firmware import app
    from firmware.device import esp32

    p = esp32.platform()
    p.sleep(app.main(p))
except Exception as e:  # no board.json, a dead sensor bus: sleep a minute and retry
    print("boot failed:", repr(e))
    machine.deepsleep(60_000)
