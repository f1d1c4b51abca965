"""PBX adapters: the 55pbx push receiver, the USCall client and simulators."""
