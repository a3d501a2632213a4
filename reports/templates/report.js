(function () {
  "use strict";
  // The findings table, drawn a page at a time from the embedded JSON so that a report of
  // 50,000 findings never holds more than one page of rows in the DOM. Every value is
  // written with textContent: data never becomes markup.
  var source = document.getElementById("costscan-data");
  var explorer = document.getElementById("explorer");
  if (!source || !explorer) {
    return;
  }
  var payload = JSON.parse(source.textContent);
  var currency = payload.currency || "USD";
  var table = payload.findings;
  var n = table.rows;
  var col = {};
  Object.keys(table.columns).forEach(function (name) {
    var column = table.columns[name];
    if (Array.isArray(column)) {
      col[name] = column;
      return;
    }
    // A repeated text column arrives as its distinct values plus one code per row.
    var values = column.values;
    var codes = column.codes;
    var out = new Array(codes.length);
    for (var i = 0; i < codes.length; i++) {
      out[i] = codes[i] === null ? null : values[codes[i]];
    }
    col[name] = out;
  });

  var has = Object.prototype.hasOwnProperty;
  var ORDER = {
    priority: { High: 0, Medium: 1, Low: 2 },
    risk: { low: 0, medium: 1, high: 2 },
    status: { new: 0, open: 1 }
  };
  var PRIORITY_CLASS = { High: "p-High", Medium: "p-Medium", Low: "p-Low" };
  var DASH = "\u2014";
  // Printing draws every row of the current filter, up to this many: paper has limits too.
  var PRINT_ROWS = 5000;
  var withStatus = payload.history === true;

  var moneyFormat = null;
  try {
    moneyFormat = new Intl.NumberFormat("en-US", { style: "currency", currency: currency });
  } catch (error) {
    moneyFormat = null; // not an ISO 4217 code: fall back to "1,234.56 XYZ"
  }
  var plainNumber = new Intl.NumberFormat("en-US", {
    minimumFractionDigits: 2,
    maximumFractionDigits: 2
  });
  var oneDecimal = new Intl.NumberFormat("en-US", {
    minimumFractionDigits: 1,
    maximumFractionDigits: 1
  });
  var counter = new Intl.NumberFormat("en-US");

  function isNumber(value) {
    return typeof value === "number" && isFinite(value);
  }
  function money(value) {
    if (!isNumber(value)) {
      return DASH;
    }
    return moneyFormat ? moneyFormat.format(value) : plainNumber.format(value) + " " + currency;
  }
  function payback(value) {
    if (!isNumber(value)) {
      return DASH;
    }
    return value === 0 ? "immediate" : oneDecimal.format(value) + " mo";
  }
  function percent(value) {
    return isNumber(value) ? counter.format(Math.round(value * 100)) + "%" : DASH;
  }
  function text(value) {
    return value === null || value === undefined ? "" : String(value);
  }
  function statusText(i) {
    var status = col.status[i];
    var weeks = col.weeks_open[i];
    if (status === "open" && isNumber(weeks)) {
      return "open " + counter.format(weeks) + " wk";
    }
    return text(status);
  }
  function resourceLabel(i) {
    var name = col.resource_name[i];
    var id = col.resource_id[i];
    if (name && id && name !== id) {
      return name + " (" + id + ")";
    }
    return name || id || "";
  }

  col.resource = new Array(n);
  var indexOf = new Map();
  for (var r = 0; r < n; r++) {
    col.resource[r] = resourceLabel(r);
    if (col.finding_id[r] !== null) {
      indexOf.set(col.finding_id[r], r);
    }
  }

  var tbody = document.getElementById("findings-body");
  var status = document.getElementById("status");
  var pageInfo = document.getElementById("page-info");
  var prev = document.getElementById("page-prev");
  var next = document.getElementById("page-next");
  var pageSize = document.getElementById("page-size");
  var search = document.getElementById("filter-text");
  var headers = Array.prototype.slice.call(document.querySelectorAll("#findings-table th"));
  var COLUMN_COUNT = headers.length;
  var FILTERS = ["family", "priority", "account_id", "region"];
  if (withStatus && document.getElementById("filter-status")) {
    FILTERS.push("status");
  }
  var expandPage = document.getElementById("expand-page");
  var printNote = document.getElementById("print-note");
  var choices = {};

  var state = { key: "rank", type: "num", dir: 1, page: 0, size: Number(pageSize.value) };
  var view = [];
  var expanded = new Set();
  var haystack = null;

  function distinct(name) {
    var seen = new Set(col[name]);
    var values = Array.from(seen);
    var order = ORDER[name];
    values.sort(function (a, b) {
      if (a === null) {
        return 1;
      }
      if (b === null) {
        return -1;
      }
      if (order && has.call(order, a) && has.call(order, b)) {
        return order[a] - order[b];
      }
      return String(a).localeCompare(String(b));
    });
    return values;
  }

  FILTERS.forEach(function (name) {
    var select = document.getElementById("filter-" + name);
    var values = distinct(name);
    choices[name] = values;
    values.forEach(function (value, index) {
      var option = document.createElement("option");
      option.value = String(index); // an index, so an empty or odd value still filters
      option.textContent = value === null ? "(none)" : String(value);
      select.appendChild(option);
    });
    select.addEventListener("change", applyFilters);
  });

  function buildHaystack() {
    var fields = [
      "title", "resource_name", "resource_id", "policy_id", "finding_id", "detail",
      "recommendation", "account_id", "region", "resource_type", "family", "action"
    ];
    haystack = new Array(n);
    for (var i = 0; i < n; i++) {
      var parts = [];
      for (var f = 0; f < fields.length; f++) {
        var value = col[fields[f]][i];
        if (value !== null) {
          parts.push(value);
        }
      }
      haystack[i] = parts.join("\n").toLowerCase();
    }
  }

  function applyFilters() {
    var wanted = FILTERS.map(function (name) {
      var select = document.getElementById("filter-" + name);
      return select.value === "" ? undefined : choices[name][Number(select.value)];
    });
    var needle = search.value.trim().toLowerCase();
    if (needle && haystack === null) {
      buildHaystack();
    }
    var out = [];
    for (var i = 0; i < n; i++) {
      var keep = true;
      for (var f = 0; f < FILTERS.length && keep; f++) {
        if (wanted[f] !== undefined && col[FILTERS[f]][i] !== wanted[f]) {
          keep = false;
        }
      }
      if (keep && needle && haystack[i].indexOf(needle) === -1) {
        keep = false;
      }
      if (keep) {
        out.push(i);
      }
    }
    view = out;
    sortView();
    state.page = 0;
    draw();
  }

  function sortKey(value, order) {
    if (value === null || value === undefined) {
      return null;
    }
    if (order) {
      return has.call(order, value) ? order[value] : 99;
    }
    return value;
  }

  function sortView() {
    var values = col[state.key];
    var order = ORDER[state.type];
    var dir = state.dir;
    var collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });
    view.sort(function (a, b) {
      var x = sortKey(values[a], order);
      var y = sortKey(values[b], order);
      // Missing figures (a payback that never comes) sort last either way.
      if (x === null || y === null) {
        return x === y ? a - b : x === null ? 1 : -1;
      }
      var c = typeof x === "number" && typeof y === "number" ? x - y : collator.compare(String(x), String(y));
      return c === 0 ? a - b : c * dir;
    });
  }

  function cell(value, className) {
    var td = document.createElement("td");
    td.textContent = value;
    if (className) {
      td.className = className;
    }
    return td;
  }

  function badge(label) {
    var span = document.createElement("span");
    span.className = "badge";
    span.textContent = label;
    return span;
  }

  function alternativeLabel(i) {
    var target = indexOf.get(col.alternative_to[i]);
    return target === undefined || col.rank[target] === null
      ? "alternative"
      : "alternative to #" + col.rank[target];
  }

  function findingRow(i) {
    var tr = document.createElement("tr");
    var alternative = col.counted[i] === false;
    tr.className = alternative ? "finding alt" : "finding";
    tr.tabIndex = 0;
    tr.setAttribute("data-index", String(i));
    tr.setAttribute("aria-expanded", expanded.has(i) ? "true" : "false");
    tr.appendChild(cell(text(col.rank[i]), "num"));
    if (withStatus) {
      tr.appendChild(cell(statusText(i), col.status[i] === "new" ? "status-new" : ""));
    }
    var priority = col.priority[i];
    tr.appendChild(cell(text(priority), has.call(PRIORITY_CLASS, priority) ? PRIORITY_CLASS[priority] : ""));
    var title = cell(text(col.title[i]), "wrap");
    if (alternative) {
      title.appendChild(badge(alternativeLabel(i)));
    }
    tr.appendChild(title);
    tr.appendChild(cell(col.resource[i], "wrap"));
    tr.appendChild(cell(text(col.account_id[i])));
    tr.appendChild(cell(text(col.region[i])));
    tr.appendChild(cell(text(col.family[i])));
    tr.appendChild(cell(money(col.monthly_savings[i]), "num"));
    tr.appendChild(cell(money(col.net_monthly_savings[i]), "num"));
    tr.appendChild(cell(payback(col.payback_months[i]), "num"));
    tr.appendChild(cell(text(col.risk[i])));
    tr.appendChild(cell(percent(col.confidence[i]), "num"));
    return tr;
  }

  function keyValues(pairs) {
    var dl = document.createElement("dl");
    dl.className = "kv";
    pairs.forEach(function (pair) {
      var dt = document.createElement("dt");
      dt.textContent = pair[0];
      var dd = document.createElement("dd");
      var value = pair[1];
      if (value !== null && typeof value === "object") {
        var pre = document.createElement("pre");
        pre.textContent = JSON.stringify(value, null, 2);
        dd.appendChild(pre);
      } else {
        dd.textContent = value === null || value === undefined ? DASH : String(value);
      }
      dl.appendChild(dt);
      dl.appendChild(dd);
    });
    return dl;
  }

  function block(heading, content) {
    var div = document.createElement("div");
    var h = document.createElement("h3");
    h.textContent = heading;
    div.appendChild(h);
    if (typeof content === "string") {
      var p = document.createElement("p");
      p.textContent = content || DASH;
      div.appendChild(p);
    } else {
      div.appendChild(content);
    }
    return div;
  }

  function detailRow(i) {
    var tr = document.createElement("tr");
    tr.className = "detail";
    var td = document.createElement("td");
    td.colSpan = COLUMN_COUNT;
    var grid = document.createElement("div");
    grid.className = "detail-grid";

    var story = document.createElement("div");
    story.appendChild(block("Detail", text(col.detail[i])));
    story.appendChild(block("Recommendation", text(col.recommendation[i])));
    if (col.counted[i] === false) {
      var target = indexOf.get(col.alternative_to[i]);
      var instead = target === undefined
        ? "Excludes another finding on this resource; it does not count toward the totals."
        : "Instead of #" + text(col.rank[target]) + " " + text(col.title[target]) +
          "; it does not count toward the totals.";
      story.appendChild(block("Alternative", instead));
    }
    grid.appendChild(story);

    var standalone = col.standalone_monthly_savings[i];
    var figures = [
      ["Current cost/mo", money(col.current_monthly_cost[i])],
      ["Savings/mo", money(col.monthly_savings[i])]
    ];
    if (isNumber(standalone) && standalone !== col.monthly_savings[i]) {
      figures.push(["Savings on its own/mo", money(standalone)]);
    }
    figures.push(
      ["Added cost/mo", money(col.added_monthly_cost[i])],
      ["Net savings/mo", money(col.net_monthly_savings[i])],
      ["Upfront cost", money(col.upfront_cost[i])],
      ["Effort", isNumber(col.effort_hours[i]) ? oneDecimal.format(col.effort_hours[i]) + " h" : DASH],
      ["Implementation cost", money(col.implementation_cost[i])],
      ["Payback", payback(col.payback_months[i])],
      ["12-month ROI", percent(col.roi_12m[i])],
      ["Risk", text(col.risk[i])],
      ["Performance", text(col.performance[i])],
      ["Confidence", percent(col.confidence[i])],
      ["Price source", text(col.price_source[i])]
    );
    grid.appendChild(block("Figures", keyValues(figures)));

    var identity = [
      ["Policy", col.policy_id[i]],
      ["Action", col.action[i]],
      ["Provider", col.provider[i]],
      ["Account", col.account_id[i]],
      ["Region", col.region[i]],
      ["Resource type", col.resource_type[i]],
      ["Resource id", col.resource_id[i]],
      ["Resource name", col.resource_name[i]],
      ["Finding id", col.finding_id[i]]
    ];
    var evidence = col.evidence[i] || {};
    var side = document.createElement("div");
    side.appendChild(block("Resource", keyValues(identity)));
    var evidencePairs = Object.keys(evidence).map(function (key) {
      return [key, evidence[key]];
    });
    side.appendChild(block("Evidence", evidencePairs.length ? keyValues(evidencePairs) : DASH));
    grid.appendChild(side);

    td.appendChild(grid);
    tr.appendChild(td);
    return tr;
  }

  function pageBounds() {
    var start = state.page * state.size;
    return [start, Math.min(view.length, start + state.size)];
  }

  function draw() {
    var pages = Math.max(1, Math.ceil(view.length / state.size));
    if (state.page >= pages) {
      state.page = pages - 1;
    }
    var bounds = pageBounds();
    drawRows(bounds[0], bounds[1]);
    var start = bounds[0];
    var end = bounds[1];
    var shown = view.length ? counter.format(start + 1) + "\u2013" + counter.format(end) : "0";
    status.textContent = "Showing " + shown + " of " + counter.format(view.length) + " findings" +
      (view.length === n ? "" : " (filtered from " + counter.format(n) + ")");
    pageInfo.textContent = "Page " + counter.format(state.page + 1) + " of " + counter.format(pages);
    prev.disabled = state.page === 0;
    next.disabled = state.page >= pages - 1;
  }

  function drawRows(start, end) {
    var fragment = document.createDocumentFragment();
    for (var k = start; k < end; k++) {
      var i = view[k];
      fragment.appendChild(findingRow(i));
      if (expanded.has(i)) {
        fragment.appendChild(detailRow(i));
      }
    }
    tbody.textContent = "";
    tbody.appendChild(fragment);
  }

  function toggle(tr) {
    var i = Number(tr.getAttribute("data-index"));
    if (expanded.has(i)) {
      expanded.delete(i);
      var detail = tr.nextElementSibling;
      if (detail && detail.className === "detail") {
        detail.remove();
      }
      tr.setAttribute("aria-expanded", "false");
    } else {
      expanded.add(i);
      tr.after(detailRow(i));
      tr.setAttribute("aria-expanded", "true");
    }
  }

  tbody.addEventListener("click", function (event) {
    var tr = event.target.closest("tr.finding");
    if (tr) {
      toggle(tr);
    }
  });
  tbody.addEventListener("keydown", function (event) {
    var tr = event.target.closest("tr.finding");
    if (tr && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      toggle(tr);
    }
  });

  headers.forEach(function (th) {
    var button = th.querySelector("button");
    button.addEventListener("click", function () {
      var key = th.getAttribute("data-key");
      if (state.key === key) {
        state.dir = -state.dir;
      } else {
        state.key = key;
        state.type = th.getAttribute("data-type");
        state.dir = th.getAttribute("data-first") === "desc" ? -1 : 1;
      }
      headers.forEach(function (other) {
        other.removeAttribute("aria-sort");
      });
      th.setAttribute("aria-sort", state.dir === 1 ? "ascending" : "descending");
      sortView();
      state.page = 0;
      draw();
    });
  });

  var typing = null;
  search.addEventListener("input", function () {
    clearTimeout(typing);
    typing = setTimeout(applyFilters, 150);
  });
  pageSize.addEventListener("change", function () {
    state.size = Number(pageSize.value);
    state.page = 0;
    draw();
  });
  prev.addEventListener("click", function () {
    state.page = Math.max(0, state.page - 1);
    draw();
  });
  next.addEventListener("click", function () {
    state.page += 1;
    draw();
  });

  expandPage.addEventListener("click", function () {
    var bounds = pageBounds();
    var all = true;
    for (var k = bounds[0]; k < bounds[1]; k++) {
      all = all && expanded.has(view[k]);
    }
    for (var m = bounds[0]; m < bounds[1]; m++) {
      if (all) {
        expanded.delete(view[m]);
      } else {
        expanded.add(view[m]);
      }
    }
    expandPage.textContent = all ? "Expand page" : "Collapse page";
    draw();
  });

  // On paper there are no pages to click through: every row of the current filter is
  // printed (a compact table; rows the reader expanded keep their detail), and the
  // collapsed sections below open.
  var closedDetails = [];
  window.addEventListener("beforeprint", function () {
    var end = Math.min(view.length, PRINT_ROWS);
    drawRows(0, end);
    printNote.textContent = "Printed: " + counter.format(end) + " of " +
      counter.format(view.length) + " findings" +
      (view.length === n ? "" : " matching the filter (" + counter.format(n) + " in all)") +
      (end < view.length ? "; the CSV and JSON reports hold every one." : ".");
    closedDetails = Array.prototype.slice.call(document.querySelectorAll("details:not([open])"));
    closedDetails.forEach(function (details) {
      details.open = true;
    });
  });
  window.addEventListener("afterprint", function () {
    closedDetails.forEach(function (details) {
      details.open = false;
    });
    closedDetails = [];
    draw();
  });

  explorer.hidden = false;
  applyFilters();
})();
