"""Referrals: the partner directory, referrals and their status, follow-ups and the worklist."""

from flask import Blueprint

bp = Blueprint("referrals", __name__)
