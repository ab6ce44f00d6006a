"""Abuse contacts for hosts no registry platform covers.

- bootstrap: the IANA RDAP bootstrap registries and the CDN ranges, shipped as data (pure).
- parsing:   RDAP objects and security.txt, read into names, emails and links (pure).
- fetching:  GET with the probe's SSRF rules, timeouts and a body cap (no database).
- discovery: everything found for one host, with its sources (no database).
- services:  the per-host cache, staff's own contacts, the recipient a notice goes to, and the
             refresh of the shipped data.
"""
