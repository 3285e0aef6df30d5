"""Schemathesis hooks: the rules of the PPE Depot API that JSON Schema cannot state.

The OpenAPI document states every rule about one field (types, ranges, lengths, text
patterns). A few rules relate a field to another field or to the current time; a
schema-valid request can break them and is then rightly refused with 422. Here every
*positive* test case (one that the fuzzer expects to be accepted) is made to keep
those rules, so that a 422 on such a case is a real disagreement. Negative cases are
left alone. Each rule below is also stated in the field's description in the document.
"""

import os
import uuid
import zlib
from datetime import date, datetime, timedelta, timezone

import schemathesis
from schemathesis import GenerationMode


def _positive(case):
    meta = getattr(case, "meta", None)
    return meta is not None and meta.generation.mode == GenerationMode.POSITIVE


def _gtin_check_digit(digits):
    # GS1 General Specifications §7.9.1: weights 3 and 1 from the right, excluding the check digit.
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def _dedupe(lines, key):
    seen, kept = set(), []
    for line in lines:
        if not isinstance(line, dict):
            kept.append(line)
            continue
        k = key(line)
        if k not in seen:
            seen.add(k)
            kept.append(line)
    return kept


def _ordered_times(obj, first, second):
    a, b = obj.get(first), obj.get(second)
    if isinstance(a, str) and isinstance(b, str) and a >= b:
        if a == b:
            obj[first], obj[second] = "08:00", "16:00"
        else:
            obj[first], obj[second] = b, a


def _one_line_each(body, path):
    # A request names each item (and lot, unit, line) once. Called by demo_references,
    # after it has mapped references (which can make two lines name the same item).
    lines = body.get("lines")
    if isinstance(lines, list):
        if path == "/api/v1/stock-reports":
            body["lines"] = _dedupe(lines, lambda l: (l.get("item"), l.get("lot")))
        elif path == "/api/v1/requests":
            body["lines"] = _dedupe(lines, lambda l: l.get("item"))
        elif path == "/api/v1/delivery-plans":
            body["lines"] = _dedupe(lines, lambda l: (l.get("site"), l.get("item")))
        elif path.endswith("/receive"):
            body["lines"] = _dedupe(lines, lambda l: l.get("line"))
    if isinstance(body.get("overrides"), list):
        body["overrides"] = _dedupe(body["overrides"], lambda l: (l.get("site"), l.get("item")))
    if isinstance(body.get("vehicles"), list) and all(isinstance(v, str) for v in body["vehicles"]):
        body["vehicles"] = list(dict.fromkeys(body["vehicles"]))


@schemathesis.hook
def map_case(context, case):
    if not _positive(case):
        return case
    now = datetime.now(timezone.utc)
    today = date.today()
    path, method = case.operation.path, case.operation.method.lower()
    body = case.body if isinstance(case.body, dict) else None
    query = case.query if isinstance(case.query, dict) else None

    if query is not None:
        # A replenishment proposal is for today or a later day.
        if path == "/api/v1/replenishment" and "date" in query:
            query["date"] = (today + timedelta(days=1)).isoformat()

    if body is None:
        return case
    # Writes may not be back-dated beyond the limit nor lie in the future.
    if body.get("occurred_at") is not None:
        body["occurred_at"] = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    # Requests are needed, and plans delivered, today or later (plans: at most 60 days ahead).
    if body.get("needed_by") is not None:
        body["needed_by"] = (today + timedelta(days=1)).isoformat()
    if path == "/api/v1/delivery-plans" and body.get("date") is not None:
        body["date"] = (today + timedelta(days=1)).isoformat()
    # Not a rule: keeps the fuzzing run short (the solver may use all of its time limit).
    if path == "/api/v1/delivery-plans" and method == "post":
        body["time_limit"] = min(body.get("time_limit") or 0.2, 0.2)
    lines = body.get("lines")
    if isinstance(lines, list):
        if path == "/api/v1/receipts":
            for l in body["lines"]:
                # An expiry date belongs to a lot.
                if isinstance(l, dict) and l.get("expires_on") is not None and l.get("lot") is None:
                    l["lot"] = "LOT-1"
    # A transfer goes from one site to another.
    if path == "/api/v1/transfers" and body.get("from_site") == body.get("to_site"):
        body["to_site"] = "NH-01" if body.get("from_site") != "NH-01" else "NH-02"
    # Only units have a unit type; windows and shifts end after they start.
    if path.startswith("/api/v1/sites"):
        # Only units have a unit type; an edit cannot know the stored kind.
        if body.get("kind") == "warehouse" or method == "patch":
            body.pop("unit_type", None)
        for w in body.get("opening_hours") or []:
            if isinstance(w, dict):
                _ordered_times(w, "opens", "closes")
    if path.startswith("/api/v1/vehicles"):
        # A shift ends after it starts; an edit changes both ends or neither, since
        # the other end is the stored one.
        if method == "patch" and ("shift_start" in body) != ("shift_end" in body):
            body.pop("shift_start", None)
            body.pop("shift_end", None)
        _ordered_times(body, "shift_start", "shift_end")
    # A GTIN ends in its check digit.
    gtin = body.get("gtin")
    if isinstance(gtin, str) and gtin.isdigit() and len(gtin) in (8, 12, 13, 14):
        body["gtin"] = gtin[:-1] + _gtin_check_digit(gtin[:-1])
    # Reporter tokens are limited to sites; admin tokens are not.
    if path == "/api/v1/tokens":
        if body.get("role") == "reporter" and not body.get("sites"):
            body["sites"] = ["NH-01"]
        if body.get("role") == "admin":
            body["sites"] = []
    # A scenario row's range runs forward and covers at most 366 days; one rate per category.
    if path == "/api/v1/scenarios":
        for row in body.get("sites") or []:
            if isinstance(row, dict) and isinstance(row.get("from"), str) and isinstance(row.get("to"), str):
                f, t = date.fromisoformat(row["from"]), date.fromisoformat(row["to"])
                if t < f or (t - f).days >= 366:
                    row["to"] = (f + timedelta(days=min(abs((t - f).days), 365))).isoformat()
        if isinstance(body.get("rates"), list):
            body["rates"] = _dedupe(body["rates"], lambda r: r.get("category"))
    return case


@schemathesis.deserializer("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
def workbook(ctx, response):
    # The document gives a workbook as its bytes (an array of octets). A workbook is a
    # zip archive (Office Open XML, ECMA-376 Part 2): it starts with a local file header.
    data = response.content
    if data[:4] != b"PK\x03\x04":
        raise ValueError("not an Office Open XML workbook")
    return list(data)


@schemathesis.hook("map_case")
def readable_sheets(context, case):
    # A sheet upload is text/csv or a workbook: its rows name known sites and items and
    # hold values that keep the JSON operations' rules, which no schema of a CSV string
    # can state. Positive cases upload a small valid sheet (new codes for the catalogue,
    # so that creating them is always right), with a fresh key where one is needed.
    path = case.operation.path
    if not path.endswith("/import") or not _positive(case):
        return case
    tag = uuid.uuid4().hex[:8].upper()
    if path == "/api/v1/stock-reports/import":
        case.body = f"site,item,counted\nNH-01,FFP2,{int(tag, 16) % 500}\n"
        case.headers = {**(case.headers or {}), "Idempotency-Key": uuid.uuid4().hex}
    elif path == "/api/v1/items/import":
        case.body = f"sku,name,category,base_unit,pack_size\nFZ-{tag},Fuzz item {tag},gloves,piece,10\n"
    elif path == "/api/v1/sites/import":
        case.body = f"code,name,kind,latitude,longitude\nFZ-{tag},Fuzz unit {tag},unit,59.7,10.2\n"
    case.media_type = "text/csv"
    return case


@schemathesis.hook("map_case")
def fresh_idempotency_keys(context, case):
    # A client that follows the Idempotency-Key protocol uses a new key for each new
    # request; reusing one for a different request is answered 422, as the IETF draft
    # prescribes. Positive cases therefore get a fresh key.
    if _positive(case) and case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
    return case


@schemathesis.hook("map_case")
def solvable_routing_problems(context, case):
    # A routing problem relates its parts to each other: every vehicle has the same
    # number of capacity dimensions as the jobs' amounts, and locations are either all
    # coordinates or all matrix indices. Positive cases are made consistent.
    if not _positive(case) or case.operation.path != "/api/v1/routing/solve":
        return case
    body = case.body
    if not isinstance(body, dict):
        return case
    body["matrix"] = None
    # Not a rule: small problems keep the run short on a debug build.
    if isinstance(body.get("jobs"), list):
        body["jobs"] = body["jobs"][:50]
    if isinstance(body.get("vehicles"), list):
        body["vehicles"] = body["vehicles"][:10] or body["vehicles"]
    vehicles = [v for v in body.get("vehicles") or [] if isinstance(v, dict)]
    dims = 1
    for i, v in enumerate(vehicles):
        v["start"] = [10.2 + 0.01 * i, 59.7]
        v.pop("start_index", None)
        v.pop("end_index", None)
        v["end"] = None
        v["capacity"] = [max(0, int(c)) for c in (v.get("capacity") or [100])][:dims] or [100]
        v["id"] = i
    for k, j in enumerate(x for x in body.get("jobs") or [] if isinstance(x, dict)):
        j["location"] = [10.2 + 0.001 * k, 59.71]
        j.pop("location_index", None)
        j["delivery"] = [max(0, int(d)) for d in (j.get("delivery") or [1])][:dims] or [1]
        j["id"] = k
    for v in vehicles:
        # A vehicle's shift is [start, end] with start ≤ end.
        tw = v.get("time_window")
        if isinstance(tw, list) and len(tw) == 2:
            v["time_window"] = sorted(max(0, int(t)) for t in tw)
    for j in (x for x in body.get("jobs") or [] if isinstance(x, dict)):
        # A job's windows are sorted, non-overlapping [start, end] pairs.
        tws = j.get("time_windows")
        if isinstance(tws, list) and tws:
            points = sorted({max(0, int(t)) for w in tws if isinstance(w, list) for t in w})
            j["time_windows"] = [points[i:i + 2] for i in range(0, len(points) - 1, 2)]
    options = body.get("options")
    if isinstance(options, dict):
        # At most the server's cores; one is always there.
        options["threads"] = 1
        options["time_limit"] = min(options.get("time_limit") or 0.2, 0.2)
    return case


# What the demo municipality holds (`ppe serve --demo`): references in positive cases
# mostly name these, so that writes reach the ledger instead of stopping at 404; about
# one in four keeps the fuzzer's own value and tests the 404 path.
WAREHOUSES = ["WH-DRAMMEN"]
UNITS = ["NH-01", "NH-02", "NH-03", "NH-04"]
# A token limited to some units (a reporter) fuzzes at those only: PPE_FUZZ_UNITS=NH-01.
SCOPED = [u for u in os.environ.get("PPE_FUZZ_UNITS", "").split(",") if u]
if SCOPED:
    UNITS = SCOPED
ITEMS = ["FFP2", "FFP3", "MASK-IIR", "GLOVE-NIT-M", "GOWN-LS", "VISOR"]
VANS = ["VAN-1", "VAN-2", "VAN-3"]


def _known(value, choices):
    if not isinstance(value, str):
        return value
    h = zlib.crc32(value.encode("utf-8", "surrogatepass"))
    return value if h % 4 == 0 else choices[h % len(choices)]


@schemathesis.hook("map_case")
def demo_references(context, case):
    if not _positive(case):
        return case
    path = case.operation.path
    warehouse_site = path in ("/api/v1/receipts",)
    # A token limited to some units reads those units' pages; any other code is 403.
    params = case.path_parameters
    if SCOPED and isinstance(params, dict) and "code" in params and path.startswith("/api/v1/sites/"):
        params["code"] = _known(params["code"], UNITS)
    if isinstance(case.query, dict):
        q = case.query
        if "depot" in q:
            q["depot"] = _known(q["depot"], WAREHOUSES)
        if "site" in q:
            q["site"] = _known(q["site"], UNITS if SCOPED else UNITS + WAREHOUSES)
        if "item" in q:
            q["item"] = _known(q["item"], ITEMS)
    body = case.body
    if not isinstance(body, dict):
        return case
    if "site" in body:
        anywhere = UNITS if SCOPED else UNITS + WAREHOUSES
        body["site"] = _known(body["site"], WAREHOUSES if warehouse_site else anywhere)
    for key in ("from_site", "depot"):
        if key in body:
            body[key] = _known(body[key], WAREHOUSES)
    if "to_site" in body:
        body["to_site"] = _known(body["to_site"], UNITS)
    if isinstance(body.get("vehicles"), list) and all(isinstance(v, str) for v in body["vehicles"]):
        body["vehicles"] = list(dict.fromkeys(_known(v, VANS) for v in body["vehicles"]))
    for key in ("lines", "overrides", "sites"):
        for line in body.get(key) or []:
            if not isinstance(line, dict):
                continue
            if "item" in line:
                line["item"] = _known(line["item"], ITEMS)
            if "site" in line:
                line["site"] = _known(line["site"], UNITS)
            # Stock is mostly taken from any lot (first expiry first out), sometimes
            # from a named one that may not exist.
            if isinstance(line.get("lot"), str) and path != "/api/v1/receipts":
                if zlib.crc32(line["lot"].encode("utf-8", "surrogatepass")) % 4:
                    line["lot"] = None
    _one_line_each(body, path)
    return case


def _most(params):
    # Three of four positive cases act on a fixture; the fourth keeps the fuzzer's own
    # path parameters and tests the 404 path.
    return isinstance(params, dict) and zlib.crc32(repr(sorted(params.items())).encode()) % 4 != 0


# A dispatched plan (fuzz/run.sh makes one and passes its id): most positive cases on a
# run sheet or a stop act on its first route and stop, so that they reach more than 404.
PLAN = os.environ.get("PPE_FUZZ_PLAN_ID")


@schemathesis.hook("map_case")
def demo_plan(context, case):
    path = case.operation.path
    if not (_positive(case) and PLAN and "/routes/{n}/" in path):
        return case
    params = case.path_parameters
    if _most(params):
        params["id"] = int(PLAN)
        params["n"] = 1
        if "k" in params:
            params["k"] = 1
    return case


# A dispatched transfer to a scoped token's unit (fuzz/run.sh makes one for the reporter):
# most positive cases on a transfer act on it, so that a role that cannot dispatch one
# still reaches proof of delivery (received once, then 409 as already received).
TRANSFER = os.environ.get("PPE_FUZZ_TRANSFER_ID")


@schemathesis.hook("map_case")
def demo_transfer(context, case):
    path = case.operation.path
    if not (_positive(case) and TRANSFER and path.startswith("/api/v1/transfers/{id}")):
        return case
    params = case.path_parameters
    if _most(params):
        params["id"] = int(TRANSFER)
    return case
