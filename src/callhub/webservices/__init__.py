"""What others call: the telephony webservices (and, later, /services/* and /mobile/*)."""
