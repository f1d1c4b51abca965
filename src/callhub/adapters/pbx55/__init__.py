"""55pbx: the PBX pushes a JSON record at each call's start and end, and on a transfer.

- parse.py: a push's body, taken as meant (the seed's own example included);
- calls.py: what a push does (the call record, the pops, the end of a call);
- endpoint.py: `POST`/`PUT /integrations/55pbx`;
- simulator.py: `callhub simulate 55pbx`, realistic call sequences for demos.
"""
