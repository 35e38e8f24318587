"""symparam: exact, closed-form formulas for the number of parameters of a neural network.

>>> import symparam
>>> symparam.count("in(784) -> dense(16) -> dense(16) -> dense(10)")
13002
"""

from .errors import SymparamError
from .network import CONVENTIONS, Network, count, parse
from .values import notation

__all__ = ["CONVENTIONS", "Network", "SymparamError", "count", "notation", "parse"]
__version__ = "0.1.0"
