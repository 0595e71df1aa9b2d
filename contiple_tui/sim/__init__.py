"""Stand-ins for the outside world: the simulated phone system (CTI server), an NHN-compatible SMS
gateway (`python -m contiple_tui.sim.nhn_server`) and the demo's sample data. The console's
production paths never import it; the CLI starts it for `demo` and `cti-sim`."""
