/* dealgate pre-forecast report: draws the charts and the exception list from the audit's JSON
 * document embedded in the page (#audit-data). Data goes into the page as text nodes only, never
 * as markup, so a deal name cannot inject anything. */
(function () {
  "use strict";

  const audit = JSON.parse(document.getElementById("audit-data").textContent);
  const summary = audit.summary;
  const stages = audit.pack.stages || [];
  const stageOrder = new Map(stages.map((s, i) => [s.id, i]));
  const stageNames = new Map(stages.map((s) => [s.id, s.name]));
  const UNKNOWN = "(unknown stage)";
  const COLOURS = ["#2b6cb0", "#dd6b20", "#2f855a", "#805ad5", "#c53030", "#0987a0", "#b7791f",
    "#d53f8c", "#4a5568", "#38a169"];
  const SIDE_COLOURS = { buyer: "#c53030", seller: "#2b6cb0", unassigned: "#a0aec0" };
  // A finding's kind as a sales manager says it (the JSON audit's ids are not words).
  const KIND_WORDS = { skipped: "skipped milestone", hygiene: "hygiene", "to-advance": "to advance",
    data: "data", waiver: "waiver" };
  // The exception list's columns, as its rows lay them out (report.css, .deal > summary).
  const LIST_COLUMNS = ["Deal", "Claimed stage → evidence", "Amount", "Close date", "Disposition",
    "Missing"];

  // --- small helpers -------------------------------------------------------------------------

  function el(tag, props, children) {
    const node = document.createElement(tag);
    Object.entries(props || {}).forEach(([key, value]) => {
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else if (key.startsWith("data-")) node.setAttribute(key, value);
      else node[key] = value;
    });
    (children || []).forEach((child) => node.append(child));
    return node;
  }

  function money(amount, currency) {
    if (amount === null || amount === undefined) return "";
    const digits = Number.isInteger(amount) ? 0 : 2;
    const text = amount.toLocaleString("en-US",
      { minimumFractionDigits: digits, maximumFractionDigits: digits });
    return currency ? currency + " " + text : text;
  }

  function kindWords(kind) {
    return KIND_WORDS[kind] || kind;
  }

  function plural(n, noun) {
    return n + " " + noun + (n === 1 ? "" : "s");
  }

  function amountIn(amounts, currency) {
    const found = (amounts || []).find((a) => (a.currency || "") === currency);
    return found ? found.amount : 0;
  }

  function stageLabel(id) {
    return id === null || id === undefined ? UNKNOWN : stageNames.get(id) || id;
  }

  function byStageOrder(a, b) {
    const pa = stageOrder.has(a) ? stageOrder.get(a) : 1e6;
    const pb = stageOrder.has(b) ? stageOrder.get(b) : 1e6;
    return pa - pb;
  }

  function stageColour(id) {
    return COLOURS[(stageOrder.has(id) ? stageOrder.get(id) : COLOURS.length - 1) % COLOURS.length];
  }

  function ownerLabel(owner, manager) {
    return (owner || "(no owner)") + " · " + (manager || "(no manager)");
  }

  const charts = {};

  // --- chart: claimed stage beside evidence stage ----------------------------------------------

  function stageChart() {
    const ids = new Set();
    summary.by_stage.forEach((s) => ids.add(s.stage_id));
    (summary.by_evidence_stage || []).forEach((s) => ids.add(s.stage_id));
    stages.filter((s) => s.open).forEach((s) => ids.add(s.id));
    const order = Array.from(ids).sort(byStageOrder);
    const claimed = new Map(summary.by_stage.map((s) => [s.stage_id, s]));
    const evidence = new Map((summary.by_evidence_stage || []).map((s) => [s.stage_id, s]));
    const measure = document.getElementById("stage-measure");
    summary.pipeline_claimed.forEach((a) => {
      measure.append(el("option", { value: a.currency || "", text: "Value (" + (a.currency || "no currency") + ")" }));
    });
    function values(figures, choice) {
      return order.map((id) => {
        const f = figures.get(id);
        if (!f) return 0;
        return choice === "count" ? f.deals : amountIn(f.claimed, choice);
      });
    }
    function datasets(choice) {
      return [
        { label: "Claimed stage", data: values(claimed, choice), backgroundColor: "#2b6cb0" },
        { label: "Evidence stage", data: values(evidence, choice), backgroundColor: "#38a169" },
      ];
    }
    const chart = new Chart(document.getElementById("chart-stages"), {
      type: "bar",
      data: { labels: order.map(stageLabel), datasets: datasets("count") },
      options: {
        maintainAspectRatio: false,
        animation: false,
        scales: { y: { beginAtZero: true } },
        plugins: {
          tooltip: {
            callbacks: {
              label: (item) => item.dataset.label + ": " +
                (measure.value === "count" ? item.raw + " deals" : money(item.raw, measure.value)),
            },
          },
        },
      },
    });
    measure.addEventListener("change", () => {
      chart.data.datasets = datasets(measure.value);
      chart.update();
    });
    charts.stages = chart;
  }

  // --- chart: forecast categories (and the probability) against the evidence --------------

  // Each claim's deals split three ways: supported, unverifiable (the input cannot show the
  // evidence), without evidence; by count or by value in one currency (never added across).
  const STANDINGS = [
    { key: "supported", label: "Supported by the evidence", colour: "#38a169" },
    { key: "unverifiable", label: "Unverifiable from this input", colour: "#d69e2e" },
    { key: "without_evidence", label: "Claims more than the evidence", colour: "#c53030" },
  ];

  function claimLabel(figures) {
    return figures.category === null || figures.category === undefined
      ? "Probability" : figures.category;
  }

  function forecastChart() {
    const claims = summary.forecast || [];
    if (claims.length === 0) {
      document.getElementById("forecast-chart").hidden = true;
      return;
    }
    const measure = document.getElementById("forecast-measure");
    const currencies = new Set();
    claims.forEach((f) => (f.claimed || []).forEach((a) => currencies.add(a.currency || "")));
    Array.from(currencies).sort().forEach((currency) => {
      measure.append(el("option", { value: currency, text: "Value (" + (currency || "no currency") + ")" }));
    });
    function split(f, choice) {
      if (choice === "count") {
        return { without_evidence: f.without_evidence, unverifiable: f.unverifiable || 0,
          supported: f.deals - f.without_evidence - (f.unverifiable || 0) };
      }
      const without = amountIn(f.without_evidence_amounts, choice);
      const unverifiable = amountIn(f.unverifiable_amounts, choice);
      return { without_evidence: without, unverifiable: unverifiable,
        // rounded to the cent: the difference of sums in binary floating point is not
        supported: Math.round((amountIn(f.claimed, choice) - without - unverifiable) * 100) / 100 };
    }
    function datasets(choice) {
      return STANDINGS.map((standing) => ({
        label: standing.label,
        data: claims.map((f) => split(f, choice)[standing.key]),
        backgroundColor: standing.colour,
      }));
    }
    const chart = new Chart(document.getElementById("chart-forecast"), {
      type: "bar",
      data: { labels: claims.map(claimLabel), datasets: datasets("count") },
      options: {
        indexAxis: "y",
        maintainAspectRatio: false,
        animation: false,
        scales: { x: { stacked: true, beginAtZero: true }, y: { stacked: true } },
        plugins: {
          tooltip: {
            callbacks: {
              label: (item) => item.dataset.label + ": " +
                (measure.value === "count" ? plural(item.raw, "deal") : money(item.raw, measure.value)),
            },
          },
        },
      },
    });
    measure.addEventListener("change", () => {
      chart.data.datasets = datasets(measure.value);
      chart.update();
    });
    charts.forecast = chart;
  }

  // --- chart: most often skipped milestones ------------------------------------------------------

  function skippedChart() {
    const top = (summary.skipped_milestones || []).slice(0, 15);
    const labels = top.map((m) => m.milestone_id);
    const stageIds = Array.from(new Set(top.map((m) => m.stage_id))).sort(byStageOrder);
    const datasets = stageIds.map((id) => ({
      label: stageLabel(id),
      data: top.map((m) => (m.stage_id === id ? m.deals : null)),
      backgroundColor: stageColour(id),
    }));
    charts.skipped = new Chart(document.getElementById("chart-skipped"), {
      type: "bar",
      data: { labels: labels, datasets: datasets },
      options: {
        indexAxis: "y",
        maintainAspectRatio: false,
        animation: false,
        scales: { x: { stacked: true, beginAtZero: true, title: { display: true, text: "deals" } },
          y: { stacked: true } },
        plugins: {
          title: { display: top.length === 0, text: "No milestone was skipped" },
          tooltip: {
            callbacks: {
              title: (items) => items.length ? top[items[0].dataIndex].milestone_id + " " +
                top[items[0].dataIndex].milestone : "",
              label: (item) => "exit of " + item.dataset.label + ": " + item.raw + " deals",
            },
          },
        },
      },
    });
  }

  // --- chart: heat map of skipped milestones, owners by stage ---------------------------------

  function heatmapChart() {
    const owners = summary.by_owner;
    const stageIds = new Set();
    owners.forEach((o) => Object.keys(o.skipped_by_stage || {}).forEach((id) => stageIds.add(id)));
    const columns = Array.from(stageIds).sort(byStageOrder);
    const rows = owners.map((o) => ownerLabel(o.owner, o.manager));
    const cells = [];
    let most = 0;
    owners.forEach((o, i) => columns.forEach((id) => {
      const v = (o.skipped_by_stage || {})[id] || 0;
      most = Math.max(most, v);
      cells.push({ x: stageLabel(id), y: rows[i], v: v });
    }));
    const box = document.getElementById("chart-heatmap").parentElement;
    box.style.height = Math.max(240, rows.length * 24 + 90) + "px";
    // The count in each cell, so the heat map reads on paper too.
    const cellCounts = {
      id: "cellCounts",
      afterDatasetsDraw(chart) {
        const ctx = chart.ctx;
        ctx.save();
        ctx.font = "11px system-ui, sans-serif";
        ctx.textAlign = "center";
        ctx.textBaseline = "middle";
        chart.getDatasetMeta(0).data.forEach((cell, i) => {
          const v = cells[i].v;
          if (!v) return;
          const centre = cell.getCenterPoint();
          ctx.fillStyle = v / (most || 1) > 0.55 ? "#ffffff" : "#1d2330";
          ctx.fillText(String(v), centre.x, centre.y);
        });
        ctx.restore();
      },
    };
    charts.heatmap = new Chart(document.getElementById("chart-heatmap"), {
      type: "matrix",
      plugins: [cellCounts],
      data: {
        datasets: [{
          label: "skipped milestones",
          data: cells,
          backgroundColor: (ctx) => {
            const v = ctx.raw ? ctx.raw.v : 0;
            return v ? "rgba(192, 57, 43, " + (0.15 + 0.85 * v / (most || 1)) + ")" : "#f1f3f6";
          },
          borderColor: "#ffffff",
          borderWidth: 1,
          width: ({ chart }) => ((chart.chartArea || {}).width || 0) / Math.max(columns.length, 1) - 2,
          height: ({ chart }) => ((chart.chartArea || {}).height || 0) / Math.max(rows.length, 1) - 2,
        }],
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        scales: {
          x: { type: "category", labels: columns.map(stageLabel), offset: true, grid: { display: false },
            title: { display: true, text: "stage of the skipped milestone" } },
          // The same stages above the map: with many owners the bottom axis is off screen.
          xTop: { type: "category", position: "top", labels: columns.map(stageLabel), offset: true,
            grid: { display: false } },
          y: { type: "category", labels: rows, offset: true, reverse: false /* first owner on top */, grid: { display: false } },
        },
        plugins: {
          legend: { display: false },
          title: { display: columns.length === 0, text: "No milestone was skipped" },
          tooltip: {
            callbacks: {
              title: (items) => items.length ? items[0].raw.y : "",
              label: (item) => item.raw.x + ": " + item.raw.v + " skipped",
            },
          },
        },
      },
    });
  }

  // --- chart: overdue action plan steps per owner ----------------------------------------------

  function overdueChart() {
    const owners = summary.by_owner.filter((o) =>
      Object.values(o.overdue_steps || {}).some((n) => n > 0));
    const sides = ["buyer", "seller", "unassigned"].filter((side) =>
      owners.some((o) => (o.overdue_steps || {})[side]));
    charts.overdue = new Chart(document.getElementById("chart-overdue"), {
      type: "bar",
      data: {
        labels: owners.map((o) => ownerLabel(o.owner, o.manager)),
        datasets: sides.map((side) => ({
          label: side + " steps",
          data: owners.map((o) => (o.overdue_steps || {})[side] || 0),
          backgroundColor: SIDE_COLOURS[side],
        })),
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true,
          title: { display: true, text: "overdue steps" } } },
        plugins: { title: { display: owners.length === 0, text: "No action plan step is overdue" } },
      },
    });
  }

  // --- the exception list ------------------------------------------------------------------

  const deals = audit.deals;
  const controls = {
    text: document.getElementById("filter-text"),
    manager: document.getElementById("filter-manager"),
    owner: document.getElementById("filter-owner"),
    stage: document.getElementById("filter-stage"),
    kind: document.getElementById("filter-kind"),
    risk: document.getElementById("filter-risk"),
    sort: document.getElementById("sort"),
  };

  function missing(deal, kind) {
    return deal.findings.filter((f) => f.status === "missing" && (!kind || f.kind === kind));
  }

  // Whether the deal's value is at risk: its evidence is behind its claimed, open stage. Audits
  // before `at_risk` was recorded on each deal tell it from the stage.
  const openStages = new Set(stages.filter((s) => s.open).map((s) => s.id));
  function atRisk(deal) {
    if (typeof deal.at_risk === "boolean") return deal.at_risk;
    return deal.inflation > 0 && openStages.has(deal.stage_id);
  }

  deals.forEach((deal) => {
    deal._missing = missing(deal).length;
    deal._haystack = [deal.name, deal.id, deal.owner, deal.manager, deal.stage, stageLabel(deal.stage_id)]
      .concat(deal.findings.map((f) => f.milestone_id + " " + f.milestone))
      .join("\n").toLowerCase();
  });

  function fillOptions(select, values, label) {
    values.forEach((value) => select.append(el("option", { value: value, text: label(value) })));
  }

  // Names in order, the blank one ("no manager", "no owner") last, as in the other reports.
  function namesThenNone(a, b) {
    if (!a || !b) return (a ? 0 : 1) - (b ? 0 : 1);
    return a.localeCompare(b);
  }

  function distinct(values) {
    return Array.from(new Set(values)).sort(namesThenNone);
  }

  fillOptions(controls.manager, distinct(deals.map((d) => d.manager || "")), (v) => v || "(no manager)");
  fillOptions(controls.owner, distinct(deals.map((d) => d.owner || "")), (v) => v || "(no owner)");
  fillOptions(controls.stage, Array.from(new Set(deals.map((d) => d.stage_id || ""))).sort(
    (a, b) => byStageOrder(a || null, b || null)), (v) => stageLabel(v || null));

  function shown(deal) {
    const text = controls.text.value.trim().toLowerCase();
    if (text && !deal._haystack.includes(text)) return false;
    if (controls.manager.selectedIndex > 0 && (deal.manager || "") !== controls.manager.value) return false;
    if (controls.owner.selectedIndex > 0 && (deal.owner || "") !== controls.owner.value) return false;
    if (controls.stage.selectedIndex > 0 && (deal.stage_id || "") !== controls.stage.value) return false;
    const kind = controls.kind.value;
    if (kind === "overdue" && !(deal.overdue_steps || []).length) return false;
    if (kind && kind !== "overdue" && !missing(deal, kind).length) return false;
    if (controls.risk.checked && !atRisk(deal)) return false;
    return true;
  }

  const SORTS = {
    amount: (a, b) => (b.amount || 0) - (a.amount || 0),
    inflation: (a, b) => b.inflation - a.inflation || (b.amount || 0) - (a.amount || 0),
    close: (a, b) => (a.close_date || "9999").localeCompare(b.close_date || "9999"),
    missing: (a, b) => b._missing - a._missing,
    name: (a, b) => (a.name || "").localeCompare(b.name || ""),
  };

  function badges(deal) {
    const parts = [];
    ["skipped", "hygiene", "to-advance"].forEach((kind) => {
      const n = missing(deal, kind).length;
      const words = kind === "skipped" ? plural(n, "skipped milestone") : n + " " + kindWords(kind);
      if (n) parts.push(el("span", { className: "badge " + kind, text: words, title: "missing: " + words }));
    });
    const late = (deal.overdue_steps || []).length;
    if (late) parts.push(el("span", { className: "badge overdue", text: late + " overdue" }));
    return parts;
  }

  function valueText(value) {
    if (value === null || value === undefined) return "—";
    if (typeof value === "object") return Object.values(value).map(valueText).join(", ");
    return String(value);
  }

  // A list of records (an action plan's steps, contact roles) as a small table, one row each;
  // other values as "field: value" lines.
  function readCell(read) {
    const parts = [];
    Object.entries(read || {}).forEach(([name, value]) => {
      const records = Array.isArray(value) && value.length &&
        value.every((v) => v && typeof v === "object" && !Array.isArray(v));
      if (!records) {
        parts.push(el("div", { text: name + ": " + (Array.isArray(value) && !value.length ? "none" : valueText(value)) }));
        return;
      }
      const keys = Array.from(new Set(value.flatMap((v) => Object.keys(v))));
      parts.push(el("div", { text: name + ":" }));
      parts.push(el("table", { className: "records", "data-field": name }, [
        el("thead", {}, [el("tr", {}, keys.map((k) => el("th", { text: k.replace(/_/g, " ") })))]),
        el("tbody", {}, value.map((v) => el("tr", {}, keys.map((k) => el("td", { text: valueText(v[k]) }))))),
      ]));
    });
    return parts;
  }

  function checklist(deal) {
    const rows = deal.findings.map((f) => el("tr", {}, [
      el("td", { className: "status-" + f.status, text: f.status.replace("_", " ") }),
      el("td", { text: kindWords(f.kind) }),
      el("td", {}, [el("b", { text: f.milestone_id }), " " + f.milestone,
        f.stage_id ? el("div", { className: "dim", text: "exit of " + stageLabel(f.stage_id) }) : ""]),
      el("td", { text: f.severity }),
      el("td", { className: "read" }, readCell(f.read)),
      el("td", { className: "guidance", text: f.guidance + (f.note ? " (" + f.note + ")" : "") }),
    ]));
    const parts = [el("div", { className: "scroll" }, [el("table", { className: "checklist" }, [
      el("thead", {}, [el("tr", {}, ["Status", "Kind", "Milestone", "Severity", "Fields read", "How to get it"]
        .map((h) => el("th", { text: h })))]),
      el("tbody", {}, rows),
    ])])];
    const late = deal.overdue_steps || [];
    if (late.length) {
      parts.push(el("h5", { text: "Overdue action plan steps" }));
      parts.push(el("table", { className: "overdue" }, [
        el("thead", {}, [el("tr", {}, ["Step", "Side", "Owner", "Due", "Days late"]
          .map((h) => el("th", { text: h })))]),
        el("tbody", {}, late.map((s) => el("tr", {}, [s.milestone || "", s.side, s.owner || "", s.due,
          String(s.days_overdue)].map((v) => el("td", { text: v }))))),
      ]));
    }
    const where = deal.location || {};
    parts.push(el("p", { className: "dim", text: "Read from " + (where.file || "") +
      (where.row ? ", row " + where.row : "") + (where.path ? ", " + where.path : "") }));
    return parts;
  }

  function dealRow(deal) {
    const ahead = atRisk(deal);
    const stage = el("span", {}, [deal.stage_id ? stageLabel(deal.stage_id) : (deal.stage || "-") + " (unknown)"]);
    if (deal.evidence_stage && deal.evidence_stage !== deal.stage_id) {
      stage.append(" → evidence ", el("span", { className: ahead ? "ahead" : "", text: stageLabel(deal.evidence_stage) }));
    }
    const summaryRow = el("summary", {}, [
      el("span", {}, [el("b", { text: deal.name || "(no name)" }), " ", el("span", { className: "dim", text: deal.id })]),
      stage,
      el("span", { className: "amount", text: money(deal.amount, deal.currency) }),
      el("span", { text: deal.close_date || "" }),
      el("span", { text: deal.disposition }),
      el("span", {}, badges(deal)),
    ]);
    const details = el("details", { className: "deal", "data-deal": deal.id }, [summaryRow]);
    details.addEventListener("toggle", () => {
      if (details.open && !details.querySelector(".body")) {
        details.append(el("div", { className: "body" }, checklist(deal)));
      }
    });
    return details;
  }

  function render() {
    const visible = deals.filter(shown).sort(SORTS[controls.sort.value] || SORTS.amount);
    const groups = new Map();
    visible.forEach((deal) => {
      const manager = deal.manager || "";
      if (!groups.has(manager)) groups.set(manager, new Map());
      const owners = groups.get(manager);
      if (!owners.has(deal.owner || "")) owners.set(deal.owner || "", []);
      owners.get(deal.owner || "").push(deal);
    });
    const container = document.getElementById("deal-groups");
    container.replaceChildren();
    Array.from(groups.keys()).sort(namesThenNone).forEach((manager) => {
      const owners = groups.get(manager);
      const count = Array.from(owners.values()).reduce((n, list) => n + list.length, 0);
      const section = el("section", { className: "manager", "data-manager": manager }, [
        el("h3", { text: (manager || "(no manager)") + " · " + plural(count, "deal") }),
      ]);
      Array.from(owners.keys()).sort(namesThenNone).forEach((owner) => {
        const list = owners.get(owner);
        section.append(el("div", { className: "owner", "data-owner": owner }, [
          el("h4", { text: (owner || "(no owner)") + " · " + plural(list.length, "deal") }),
          el("div", { className: "deal-head" },
            LIST_COLUMNS.map((name) => el("span", { text: name }))),
          ...list.map(dealRow),
        ]));
      });
      container.append(section);
    });
    document.getElementById("shown").textContent =
      "Showing " + visible.length + " of " + plural(deals.length, "deal") + " in the list";
  }

  let pending = 0;
  controls.text.addEventListener("input", () => {
    clearTimeout(pending);
    pending = setTimeout(render, 120);
  });
  ["manager", "owner", "stage", "kind", "risk", "sort"].forEach((name) =>
    controls[name].addEventListener("change", render));

  forecastChart();
  stageChart();
  skippedChart();
  heatmapChart();
  overdueChart();
  render();
  document.body.dataset.ready = "1";
})();
