"""The CTI (phone system) feed: protocol, live model, websocket client, simulator. Headless."""
