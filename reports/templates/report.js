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
  var series = payload.series || {};
  var cpuLines = payload.cpu || { target: 70, alert: 85 };
  var totalLabels = payload.totals || {};
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
  var SVG = "http://www.w3.org/2000/svg";
  var ORDER = {
    priority: { High: 0, Medium: 1, Low: 2 },
    risk: { low: 0, medium: 1, high: 2 },
    status: { new: 0, open: 1 },
    category: { savings: 0, cost_avoidance: 1, possible: 2, deferred: 3, waste: 4, review: 5 }
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
  var formats = {};
  // Money of a finding priced in another currency (billing in several, no --fx rate).
  function rowMoney(i, value) {
    var code = col.currency ? col.currency[i] : null;
    if (!code || code === currency || !isNumber(value)) {
      return money(value);
    }
    if (!has.call(formats, code)) {
      try {
        formats[code] = new Intl.NumberFormat("en-US", { style: "currency", currency: code });
      } catch (error) {
        formats[code] = null;
      }
    }
    return formats[code] ? formats[code].format(value) : plainNumber.format(value) + " " + code;
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
  function cpuPercent(value) {
    return value < 10 ? oneDecimal.format(value) + "%" : counter.format(Math.round(value)) + "%";
  }
  function text(value) {
    return value === null || value === undefined ? "" : String(value);
  }
  function yesNo(value) {
    return value === true ? "yes" : value === false ? "no" : DASH;
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
  function element(tag, className, content) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (content !== undefined && content !== null) {
      node.textContent = content;
    }
    return node;
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
  var totalsLine = document.getElementById("filter-totals");
  var emptyState = document.getElementById("empty");
  var pageInfo = document.getElementById("page-info");
  var prev = document.getElementById("page-prev");
  var next = document.getElementById("page-next");
  var pageSize = document.getElementById("page-size");
  var search = document.getElementById("filter-text");
  var headers = Array.prototype.slice.call(document.querySelectorAll("#findings-table th"));
  var COLUMN_COUNT = headers.length;
  var LABELS = headers.map(function (th) {
    return th.textContent.trim();
  });
  var FILTERS = ["family", "priority", "category", "account_id", "region"];
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

  function optionLabel(name, value) {
    if (value === null) {
      return "(none)";
    }
    if (name === "category") {
      return String(value).replace(/_/g, " ");
    }
    return String(value);
  }

  FILTERS.forEach(function (name) {
    var select = document.getElementById("filter-" + name);
    var values = distinct(name);
    choices[name] = values;
    values.forEach(function (value, index) {
      var option = document.createElement("option");
      option.value = String(index); // an index, so an empty or odd value still filters
      option.textContent = optionLabel(name, value);
      select.appendChild(option);
    });
    select.addEventListener("change", applyFilters);
  });

  function buildHaystack() {
    var fields = [
      "title", "resource_name", "resource_id", "policy_id", "finding_id", "detail",
      "recommendation", "account_id", "region", "resource_type", "family", "action", "change"
    ];
    haystack = new Array(n);
    for (var i = 0; i < n; i++) {
      var parts = [];
      for (var f = 0; f < fields.length; f++) {
        var value = col[fields[f]] ? col[fields[f]][i] : null;
        if (value !== null && value !== undefined) {
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
    drawTotals();
    draw();
  }

  function clearFilters() {
    FILTERS.forEach(function (name) {
      document.getElementById("filter-" + name).value = "";
    });
    search.value = "";
    applyFilters();
  }

  // The category totals over the rows the filters keep: each finding carries what it adds
  // to each total (the report's own counting rules), so the sums are the summary's when
  // nothing is filtered.
  function drawTotals() {
    var keys = Object.keys(totalLabels);
    var sums = {};
    keys.forEach(function (key) {
      sums[key] = 0;
    });
    for (var k = 0; k < view.length; k++) {
      var i = view[k];
      for (var t = 0; t < keys.length; t++) {
        var value = col["adds_" + keys[t]] ? col["adds_" + keys[t]][i] : 0;
        if (isNumber(value)) {
          sums[keys[t]] += value;
        }
      }
    }
    totalsLine.textContent = "";
    var lead = element("span", "muted", view.length === n ? "All findings:" : "These " +
      counter.format(view.length) + " findings:");
    totalsLine.appendChild(lead);
    keys.forEach(function (key) {
      if (key !== "monthly_savings" && Math.abs(sums[key]) < 0.005) {
        return;
      }
      var span = element("span", "", totalLabels[key] + " ");
      span.setAttribute("data-total", key);
      span.appendChild(element("strong", "", money(Math.round(sums[key] * 100) / 100)));
      span.appendChild(document.createTextNode("/mo"));
      totalsLine.appendChild(span);
    });
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

  function cell(value, className, index) {
    var td = element("td", className || "", value);
    td.setAttribute("data-label", LABELS[index] || "");
    return td;
  }

  function badge(label) {
    return element("span", "badge", label);
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
    var c = 0;
    tr.appendChild(cell(text(col.rank[i]), "num rank-cell", c++));
    if (withStatus) {
      tr.appendChild(cell(statusText(i), col.status[i] === "new" ? "status-new" : "", c++));
    }
    var priority = col.priority[i];
    tr.appendChild(cell(text(priority), has.call(PRIORITY_CLASS, priority) ? PRIORITY_CLASS[priority] : "", c++));
    var title = cell(text(col.title[i]), "wrap title-cell", c++);
    if (alternative) {
      title.appendChild(badge(alternativeLabel(i)));
    }
    title.appendChild(element("span", "resource", col.resource[i]));
    tr.appendChild(title);
    tr.appendChild(cell(text(col.account_id[i]), "nowrap", c++));
    tr.appendChild(cell(text(col.region[i]), "nowrap", c++));
    tr.appendChild(cell(text(col.family[i]), "", c++));
    tr.appendChild(cell(rowMoney(i, col.net_monthly_savings[i]), "num", c++));
    tr.appendChild(cell(payback(col.payback_months[i]), "num", c++));
    tr.appendChild(cell(text(col.risk[i]), "", c++));
    tr.appendChild(cell(percent(col.confidence[i]), "num", c++));
    return tr;
  }

  function keyValues(pairs) {
    var dl = element("dl", "kv");
    pairs.forEach(function (pair) {
      dl.appendChild(element("dt", "", pair[0]));
      var value = pair[1];
      dl.appendChild(element("dd", "", value === null || value === undefined || value === "" ? DASH : String(value)));
    });
    return dl;
  }

  function block(heading, content) {
    var div = document.createElement("div");
    div.appendChild(element("h3", "", heading));
    if (typeof content === "string") {
      div.appendChild(element("p", "", content || DASH));
    } else {
      div.appendChild(content);
    }
    return div;
  }

  function copyText(button, value) {
    function done(ok) {
      button.textContent = ok ? "Copied" : "Select and copy";
      button.classList.toggle("done", ok);
      setTimeout(function () {
        button.textContent = "Copy";
        button.classList.remove("done");
      }, 1500);
    }
    function fallback() {
      var area = document.createElement("textarea");
      area.value = value;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try {
        ok = document.execCommand("copy");
      } catch (error) {
        ok = false;
      }
      area.remove();
      done(ok);
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(value).then(function () {
        done(true);
      }, fallback);
    } else {
      fallback();
    }
  }

  function snippet(heading, value) {
    var wrap = element("div", "fix");
    var head = element("div", "fix-head");
    head.appendChild(element("h4", "", heading));
    var button = element("button", "copy", "Copy");
    button.type = "button";
    button.setAttribute("aria-label", "Copy the " + heading);
    head.appendChild(button);
    wrap.appendChild(head);
    var pre = element("pre", "code", value);
    wrap.appendChild(pre);
    button.addEventListener("click", function (event) {
      event.stopPropagation();
      copyText(button, pre.textContent);
    });
    return wrap;
  }

  function remedy(i) {
    var div = document.createElement("div");
    div.appendChild(element("h3", "", "What to do"));
    div.appendChild(element("p", "change-words", text(col.change[i]) || text(col.recommendation[i])));
    if (col.cli[i]) {
      // The command-line tool of the finding's cloud (remediation builds it per cloud).
      var tool = { gcp: "gcloud", azure: "Azure CLI" }[text(col.provider[i])] || "AWS CLI";
      div.appendChild(snippet(tool, col.cli[i]));
    }
    if (col.terraform[i]) {
      div.appendChild(snippet("Terraform", col.terraform[i]));
    }
    if (col.console_url[i]) {
      var p = element("p", "");
      var link = element("a", "", "Open in the console");
      link.href = col.console_url[i];
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      p.appendChild(link);
      div.appendChild(p);
    }
    if (col.note[i]) {
      div.appendChild(element("p", "fix-note", col.note[i]));
    }
    return div;
  }

  function evidenceBlock(i) {
    var figures = col.figures[i] || {};
    var div = document.createElement("div");
    div.appendChild(element("h3", "", "Evidence"));
    if (figures.formula) {
      var p = element("p", "formula");
      p.appendChild(element("span", "muted", "Formula: "));
      p.appendChild(element("code", "", figures.formula));
      div.appendChild(p);
    }
    var sections = figures.sections || [];
    sections.forEach(function (section) {
      if (section[0]) {
        div.appendChild(element("h4", "", section[0]));
      }
      div.appendChild(keyValues(section[1] || []));
    });
    if (!figures.formula && !sections.length) {
      div.appendChild(element("p", "", DASH));
    }
    if (figures.sources && figures.sources.length) {
      div.appendChild(element("p", "sources muted", "Sources: " + figures.sources.join("; ")));
    }
    return div;
  }

  function svg(tag, attributes) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attributes).forEach(function (name) {
      node.setAttribute(name, String(attributes[name]));
    });
    return node;
  }

  function percentile(values, p) {
    var sorted = values.filter(isNumber).sort(function (a, b) {
      return a - b;
    });
    if (!sorted.length) {
      return null;
    }
    // Nearest rank, as a reader would count it.
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
  }

  function path(values, hours) {
    var d = "";
    var pen = false;
    for (var h = 0; h < values.length; h++) {
      var v = values[h];
      if (!isNumber(v)) {
        pen = false;
        continue;
      }
      var x = (hours > 1 ? h / (hours - 1) : 0) * 1000;
      var y = (100 - Math.max(0, Math.min(100, v))) * 1;
      d += (pen ? "L" : "M") + x.toFixed(1) + " " + y.toFixed(1);
      pen = true;
    }
    return d;
  }

  // Hourly CPU over the lookback: average and maximum, the target and alert lines, and
  // p99 (the finding's own figure when its evidence has one). Lines only in the SVG; the
  // words are HTML, so they keep the page's type size at any width.
  function cpuChart(i, resourceId) {
    var data = series[resourceId];
    var figure = element("figure", "cpu");
    figure.setAttribute("data-resource", resourceId);
    figure.appendChild(element("figcaption", "", "CPU of " + resourceId + ", hourly over the lookback"));
    var average = data.average || [];
    var maximum = data.maximum || [];
    var hours = Math.max(average.length, maximum.length);
    var own = resourceId === col.resource_id[i] && isNumber(col.cpu_p99[i]);
    var p99 = own ? col.cpu_p99[i] : percentile(average, 0.99);
    var target = isNumber(col.cpu_target[i]) ? col.cpu_target[i] : cpuLines.target;
    var alert = isNumber(col.cpu_alert[i]) ? col.cpu_alert[i] : cpuLines.alert;
    var plot = element("div", "cpu-plot");
    var chart = svg("svg", {
      viewBox: "0 0 1000 100",
      preserveAspectRatio: "none",
      role: "img",
      "aria-label": "Hourly CPU of " + resourceId
    });
    function hline(value, colour, dash) {
      chart.appendChild(svg("line", {
        x1: 0, x2: 1000, y1: 100 - value, y2: 100 - value, stroke: colour,
        "stroke-width": 1.5, "stroke-dasharray": dash, "vector-effect": "non-scaling-stroke"
      }));
    }
    chart.appendChild(svg("path", {
      d: path(maximum, hours), fill: "none", stroke: "#9fc9bd", "stroke-width": 1,
      "vector-effect": "non-scaling-stroke"
    }));
    chart.appendChild(svg("path", {
      d: path(average, hours), fill: "none", stroke: "#1f6f5c", "stroke-width": 1.5,
      "vector-effect": "non-scaling-stroke"
    }));
    hline(target, "#4a78b0", "6 4");
    hline(alert, "#b3261e", "6 4");
    if (isNumber(p99)) {
      hline(p99, "#9a4a00", "");
    }
    plot.appendChild(chart);
    [0, 50, 100].forEach(function (tick) {
      var label = element("span", "axis", tick + "%");
      label.style.top = (100 - tick) + "%";
      plot.appendChild(label);
    });
    function lineLabel(value, words, colour) {
      var label = element("span", "line-label", words);
      label.style.top = (100 - Math.max(0, Math.min(100, value))) + "%";
      label.style.color = colour;
      plot.appendChild(label);
    }
    lineLabel(alert, "alert " + cpuPercent(alert), "#b3261e");
    lineLabel(target, "target " + cpuPercent(target), "#4a78b0");
    figure.appendChild(plot);
    var days = element("div", "cpu-days");
    var start = Date.parse(data.start);
    if (isFinite(start) && hours > 0) {
      [0, 0.5, 1].forEach(function (at) {
        var moment = new Date(start + at * (hours - 1) * 3600000);
        days.appendChild(element("span", "", moment.toISOString().slice(0, 10)));
      });
    }
    figure.appendChild(days);
    var legend = element("div", "cpu-legend");
    function key(className, words) {
      var item = element("span", "");
      item.appendChild(element("span", "key " + className));
      item.appendChild(document.createTextNode(words));
      legend.appendChild(item);
    }
    key("k-avg", "hourly average");
    key("k-max", "hourly maximum");
    key("k-target", "target " + cpuPercent(target));
    key("k-alert", "alert " + cpuPercent(alert));
    if (isNumber(p99)) {
      key("k-p99", "p99 " + cpuPercent(p99) + (own ? "" : " (of the hourly average)"));
    }
    figure.appendChild(legend);
    return figure;
  }

  function chartsFor(i) {
    var ids = [];
    if (has.call(series, col.resource_id[i])) {
      ids.push(col.resource_id[i]);
    }
    (col.members[i] || []).forEach(function (id) {
      if (ids.length < 3 && has.call(series, id) && ids.indexOf(id) === -1) {
        ids.push(id);
      }
    });
    return ids;
  }

  function detailRow(i) {
    var tr = document.createElement("tr");
    tr.className = "detail";
    var td = document.createElement("td");
    td.colSpan = COLUMN_COUNT;
    var grid = element("div", "detail-grid");

    var story = remedy(i);
    story.appendChild(block("Detail", text(col.detail[i])));
    story.appendChild(block("Recommendation", text(col.recommendation[i])));
    if (col.counted[i] === false) {
      var target = indexOf.get(col.alternative_to[i]);
      var instead = target === undefined
        ? "Not counted toward the totals: " + text(col.priority_reason[i])
        : "Instead of #" + text(col.rank[target]) + " " + text(col.title[target]) +
          "; it does not count toward the totals.";
      story.appendChild(block("Not counted", instead));
    }
    var members = col.members[i];
    if (members && members.length) {
      var count = col.member_count[i] || members.length;
      var listed = members.join(", ") + (count > members.length ? " and " +
        counter.format(count - members.length) + " more (the JSON report lists them)" : "");
      var m = block("Members (" + counter.format(count) + ")", listed);
      m.className = "members";
      story.appendChild(m);
    }
    grid.appendChild(story);

    var standalone = col.standalone_monthly_savings[i];
    var figures = [
      ["Current cost/mo", rowMoney(i, col.current_monthly_cost[i])],
      ["Savings/mo", rowMoney(i, col.monthly_savings[i])]
    ];
    if (isNumber(col.monthly_savings_before_discounts[i]) &&
        col.monthly_savings_before_discounts[i] !== col.monthly_savings[i]) {
      figures.push(["Before discounts/mo", rowMoney(i, col.monthly_savings_before_discounts[i])]);
    }
    if (isNumber(col.deferred_monthly_savings[i]) && col.deferred_monthly_savings[i] > 0) {
      figures.push(["Deferred/mo", rowMoney(i, col.deferred_monthly_savings[i]) +
        (col.savings_start[i] ? " from " + col.savings_start[i] : "")]);
    }
    if (isNumber(standalone) && standalone !== col.monthly_savings[i]) {
      figures.push(["Savings on its own/mo", money(standalone)]);
    }
    figures.push(
      ["Added cost/mo", rowMoney(i, col.added_monthly_cost[i])],
      ["Net savings/mo", rowMoney(i, col.net_monthly_savings[i])],
      ["Upfront cost", rowMoney(i, col.upfront_cost[i])],
      ["Effort", (isNumber(col.effort_hours[i]) ? oneDecimal.format(col.effort_hours[i]) + " h" : DASH) +
        (col.effort_level[i] ? " (" + String(col.effort_level[i]).replace("_", " ") + ")" : "")],
      ["Restart needed", yesNo(col.restart_needed[i])],
      ["Rollback possible", yesNo(col.rollback_possible[i])],
      ["Implementation cost", rowMoney(i, col.implementation_cost[i])],
      ["Payback", payback(col.payback_months[i])],
      ["12-month ROI", percent(col.roi_12m[i])],
      ["Category", text(col.category[i]).replace(/_/g, " ")],
      ["Priority", col.priority_reason[i] ? text(col.priority_reason[i]) : text(col.priority[i])],
      ["Risk", text(col.risk[i])],
      ["Performance", text(col.performance[i])],
      ["Confidence", percent(col.confidence[i])],
      ["Price source", text(col.price_source[i])]
    );
    var middle = block("Figures", keyValues(figures));
    middle.appendChild(element("h3", "", "Resource"));
    middle.appendChild(keyValues([
      ["Resource id", col.resource_id[i]],
      ["Name", col.resource_name[i]],
      ["Type", col.resource_type[i]],
      ["Account", col.account_id[i]],
      ["Region", col.region[i]],
      ["Policy", col.policy_id[i]],
      ["Finding id", col.finding_id[i]]
    ]));
    grid.appendChild(middle);

    var side = document.createElement("div");
    var charted = chartsFor(i);
    if (charted.length) {
      side.appendChild(element("h3", "", "Utilization"));
      charted.forEach(function (id) {
        side.appendChild(cpuChart(i, id));
      });
    }
    side.appendChild(evidenceBlock(i));
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
    emptyState.hidden = view.length !== 0;
    document.getElementById("findings-table").hidden = view.length === 0;
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
    if (event.target.closest("tr.detail")) {
      return;
    }
    var tr = event.target.closest("tr.finding");
    if (tr) {
      toggle(tr);
    }
  });
  tbody.addEventListener("keydown", function (event) {
    var tr = event.target.closest("tr.finding");
    if (tr && event.target === tr && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      toggle(tr);
    }
  });

  function sortBy(th, key, type, dir) {
    state.key = key;
    state.type = type;
    state.dir = dir;
    headers.forEach(function (other) {
      other.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", state.dir === 1 ? "ascending" : "descending");
    sortView();
    state.page = 0;
    draw();
  }

  headers.forEach(function (th) {
    var button = th.querySelector("button");
    button.addEventListener("click", function () {
      var key = th.getAttribute("data-key");
      if (state.key === key) {
        sortBy(th, key, state.type, -state.dir);
      } else {
        sortBy(th, key, th.getAttribute("data-type"), th.getAttribute("data-first") === "desc" ? -1 : 1);
      }
    });
  });

  // A top change opens its finding: filters cleared, ranked order, its page, its detail.
  Array.prototype.forEach.call(document.querySelectorAll("a.open-finding"), function (link) {
    link.addEventListener("click", function (event) {
      var i = indexOf.get(link.getAttribute("data-finding"));
      if (i === undefined) {
        return;
      }
      event.preventDefault();
      clearFilters();
      sortBy(headers[0], "rank", "num", 1);
      var position = view.indexOf(i);
      state.page = Math.floor(position / state.size);
      expanded.add(i);
      draw();
      var row = tbody.querySelector('tr.finding[data-index="' + i + '"]');
      if (row) {
        row.scrollIntoView({ block: "start" });
        row.focus({ preventScroll: true });
      }
    });
  });

  var typing = null;
  search.addEventListener("input", function () {
    clearTimeout(typing);
    typing = setTimeout(applyFilters, 150);
  });
  document.getElementById("clear-filters").addEventListener("click", clearFilters);
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
