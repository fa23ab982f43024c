"""Supplies: the catalogue of what the program hands out, and stock at each site."""

from flask import Blueprint

bp = Blueprint("supplies", __name__)
