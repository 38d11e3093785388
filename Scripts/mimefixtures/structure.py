"""placeholder"""
from .common import *  # noqa
