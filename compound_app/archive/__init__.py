"""The owners' right to see (业主知情权): each management area's archive of documents
(管理规约, 议事规则, 一小区一方案, contracts, minutes, vote results, notices) and its itemised
expenses with their vouchers."""

from flask import Blueprint

bp = Blueprint("archive", __name__, url_prefix="/archive")
