"""The hand-over of an area's management: from a 物管会 to an elected 业委会 or a property
company, with everything handed over in one bundle (``bundle``)."""
