"""growthops: daily exports to trusted growth marts."""

from growthops.logs import quiet_third_party

__version__ = "0.1.0"

quiet_third_party()
