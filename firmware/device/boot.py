# boot.py: copied to the device's root by `binfleet firmware build`. Runs before
# main.py on every boot (every wake); left empty so a wake starts sampling at once.
