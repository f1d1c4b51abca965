"""The supervisors' wall board: its model (model.py) and the one poller that feeds it."""
