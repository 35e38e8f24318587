"""The frameworks symparam's counts are checked against: each layer built again with the
framework's own classes, from the arguments symparam bound (`symparam check`)."""
