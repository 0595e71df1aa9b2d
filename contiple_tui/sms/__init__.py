"""SMS/MMS sending: the byte and recipient rules, MMS image checks and the gateways (sandbox, NHN Cloud).

Headless: never imports textual.
"""
