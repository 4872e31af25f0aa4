// The automation builder: adds, removes and reorders rows, fits inputs to field types, previews
// cron schedules, inserts template variables, and on submit serialises the page into the one
// `definition` field (the same JSON the API takes). The server validates and renders errors
// beside the inputs; without this script the page still reads, and the JSON can be edited.
(function () {
  "use strict";

  var form = document.getElementById("builder-form");
  if (!form) return;
  var schema = JSON.parse(document.getElementById("builder-schema").textContent);
  var definitionField = document.getElementById("id_definition");
  var triggerType = document.getElementById("trigger-type");
  var triggerModule = document.getElementById("trigger-module");
  var triggerField = document.getElementById("trigger-field");
  var cronInput = document.getElementById("trigger-schedule");
  var timezoneSelect = document.getElementById("timezone");
  var webhookPath = document.getElementById("trigger-webhook-path");
  var webhookUrl = document.getElementById("webhook-url");
  var conditionsRoot = document.querySelector("[data-root-group]");
  var actionList = document.querySelector("[data-actions]");

  // The operator rules come from the engine (automations/engine/operators.py) as data in the
  // page, so this script never keeps a copy of its own.
  var OPERATORS = schema.operators;
  var NO_VALUE = new Set(OPERATORS.filter(function (op) { return !op.takes_value; })
    .map(function (op) { return op.value; }));
  var STRING_OPS = new Set(OPERATORS.filter(function (op) { return op.text_value; })
    .map(function (op) { return op.value; }));
  var KNOWN_TYPES = new Set(OPERATORS.reduce(function (all, op) {
    return all.concat(op.field_types);
  }, []));

  // ------------------------------------------------------------------------------------------
  // Small helpers

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function option(value, label, selected) {
    var node = el("option", { value: value }, label);
    if (selected) node.selected = true;
    return node;
  }

  function triggerSpec() {
    return schema.triggers.find(function (t) { return t.value === triggerType.value; }) || {};
  }

  function moduleFields(slug) {
    var module = schema.modules.find(function (m) { return m.slug === slug; });
    return module ? module.fields : [];
  }

  function currentModule() {
    return triggerSpec().module ? triggerModule.value : "";
  }

  function fieldSpec(key) {
    var all = moduleFields(currentModule()).concat(schema.system_fields);
    return all.find(function (f) { return f.key === key; }) || null;
  }

  function templateClone(id) {
    var tpl = document.getElementById(id);
    var html = tpl.innerHTML.replace(/__uid__/g, "n" + Math.random().toString(36).slice(2, 9));
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    return holder.firstElementChild;
  }

  function isHiddenWithin(node, container) {
    for (var n = node; n && n !== container; n = n.parentElement) {
      if (n.hidden) return true;
    }
    return false;
  }

  function setOptions(select, options, keepValue) {
    var current = keepValue === undefined ? select.value : keepValue;
    var placeholder = select.querySelector("option[value='']");
    select.textContent = "";
    if (placeholder) select.appendChild(placeholder);
    var found = false;
    options.forEach(function (o) {
      if (o.group) {
        var group = el("optgroup", { label: o.group });
        o.items.forEach(function (item) {
          group.appendChild(option(item.value, item.label, item.value === current));
          found = found || item.value === current;
        });
        select.appendChild(group);
      } else {
        select.appendChild(option(o.value, o.label, o.value === current));
        found = found || o.value === current;
      }
    });
    if (current && !found) select.appendChild(option(current, current + " (not available)", true));
  }

  // ------------------------------------------------------------------------------------------
  // Trigger

  function refreshTrigger() {
    var spec = triggerSpec();
    document.querySelectorAll("[data-trigger-show]").forEach(function (section) {
      var show = section.getAttribute("data-trigger-show");
      section.hidden = show === "module" ? !spec.module : show !== spec.value;
    });
    document.querySelector("[data-no-record-hint]").hidden = !!spec.module;
    document.querySelector("[data-conditions-root]").hidden = !spec.module;
    refreshModuleDependents();
  }

  function refreshModuleDependents() {
    var fields = moduleFields(currentModule());
    setOptions(triggerField, fields.map(function (f) { return { value: f.key, label: f.label }; }));
    document.querySelectorAll("[data-condition]").forEach(function (row) {
      refreshConditionFieldOptions(row);
      refreshOperators(row);
    });
    document.querySelectorAll("[data-action]").forEach(refreshActionFields);
    refreshUserTargets();
    refreshVariables();
  }

  triggerType.addEventListener("change", refreshTrigger);
  triggerModule.addEventListener("change", refreshModuleDependents);

  // Cron preview, fetched from the server so it is exactly what the scheduler will do.
  var cronTimer = null;
  function refreshCron() {
    clearTimeout(cronTimer);
    cronTimer = setTimeout(function () {
      var preview = document.getElementById("cron-preview");
      if (!cronInput.value.trim()) { preview.textContent = ""; return; }
      var url = form.getAttribute("data-cron-url") + "?schedule=" +
        encodeURIComponent(cronInput.value) + "&timezone=" + encodeURIComponent(timezoneSelect.value);
      fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
        preview.textContent = "";
        if (!data.ok) {
          preview.appendChild(el("p", { "class": "error" }, data.error));
          return;
        }
        var p = el("p");
        p.appendChild(el("strong", { "data-cron-description": "" }, data.description));
        preview.appendChild(p);
        preview.appendChild(el("p", { "class": "hint" }, "Next runs (" + timezoneSelect.value + "):"));
        var list = el("ol", { "class": "next-runs" });
        data.next_runs.forEach(function (run) {
          var li = el("li");
          li.appendChild(el("time", { datetime: run.utc }, run.local));
          list.appendChild(li);
        });
        preview.appendChild(list);
      }).catch(function () { /* offline preview is a nicety; saving still validates */ });
    }, 250);
  }
  cronInput.addEventListener("input", refreshCron);
  timezoneSelect.addEventListener("change", refreshCron);
  document.getElementById("cron-preset").addEventListener("change", function (event) {
    if (!event.target.value) return;
    cronInput.value = event.target.value;
    refreshCron();
  });

  webhookPath.addEventListener("input", function () {
    var id = form.getAttribute("data-automation-id");
    if (!id) return;
    webhookUrl.value = webhookUrl.getAttribute("data-base") + id + "/" + (webhookPath.value || "your-path");
  });

  // ------------------------------------------------------------------------------------------
  // Conditions

  // Mirrors engine.operators.offered_operators(): a field of a type the rules do not name is
  // offered what a text field is.
  function operatorsFor(type, hasPrevious) {
    var known = KNOWN_TYPES.has(type) ? type : "text";
    return OPERATORS.filter(function (op) {
      if (op.needs_previous && !hasPrevious) return false;
      return op.field_types.indexOf(known) !== -1;
    }).map(function (op) {
      var label = (type === "date" || type === "datetime") ? op.date_label : op.label;
      return { value: op.value, label: label };
    });
  }

  // Mirrors builder_state.value_widget().
  function valueWidget(spec, operator, value) {
    var type = spec ? spec.type : null;
    var w = { input: "text", value: value || "", hidden: NO_VALUE.has(operator), choices: null };
    if (STRING_OPS.has(operator)) return w;
    if (type === "select") {
      w.choices = spec.options.map(function (o) { return { value: o, label: o }; });
    } else if (type === "boolean") {
      w.choices = [{ value: "true", label: "Yes" }, { value: "false", label: "No" }];
    } else if (type === "user") {
      w.choices = schema.members.map(function (m) { return { value: String(m.id), label: m.label }; });
    } else if (type === "number") {
      w.input = "number";
    } else if (type === "date") {
      w.input = "date"; w.value = w.value.slice(0, 10);
    } else if (type === "datetime") {
      w.input = "datetime-local"; w.value = w.value.replace(/Z$/, "").slice(0, 19);
    }
    if (w.choices) w.input = "select";
    return w;
  }

  function buildValueInput(widget, path) {
    var node;
    if (widget.input === "select") {
      node = el("select", { "data-role": "value", "data-path": path });
      node.appendChild(option("", "—"));
      var found = false;
      widget.choices.forEach(function (c) {
        node.appendChild(option(c.value, c.label, c.value === widget.value));
        found = found || c.value === widget.value;
      });
      if (widget.value && !found) node.appendChild(option(widget.value, widget.value, true));
    } else {
      node = el("input", { type: widget.input, "data-role": "value", "data-path": path });
      if (widget.input === "number") node.setAttribute("step", "any");
      if (widget.input === "datetime-local") node.setAttribute("step", "1");
      node.value = widget.value;
    }
    return node;
  }

  function refreshConditionFieldOptions(row) {
    var select = row.querySelector("[data-role=field]");
    var fields = moduleFields(currentModule()).map(function (f) { return { value: f.key, label: f.label }; });
    fields.push({ group: "Every record", items: schema.system_fields.map(function (f) {
      return { value: f.key, label: f.label };
    }) });
    setOptions(select, fields);
  }

  function refreshOperators(row) {
    var spec = fieldSpec(row.querySelector("[data-role=field]").value);
    var select = row.querySelector("[data-role=operator]");
    var ops = operatorsFor(spec ? spec.type : null, triggerSpec().previous);
    var current = select.value;
    select.textContent = "";
    ops.forEach(function (op) { select.appendChild(option(op.value, op.label, op.value === current)); });
    if (!ops.some(function (op) { return op.value === current; })) select.selectedIndex = 0;
    refreshValue(row);
  }

  function refreshValue(row) {
    var spec = fieldSpec(row.querySelector("[data-role=field]").value);
    var operator = row.querySelector("[data-role=operator]").value;
    var wrap = row.querySelector("[data-role=value-wrap]");
    var old = wrap.querySelector("[data-role=value]");
    var widget = valueWidget(spec, operator, old ? old.value : "");
    wrap.hidden = widget.hidden;
    var fresh = buildValueInput(widget, old ? old.getAttribute("data-path") : "");
    fresh.id = old.id;
    var sameKind = old && old.tagName === fresh.tagName && old.type === fresh.type &&
      old.tagName !== "SELECT";
    if (!sameKind) old.replaceWith(fresh);
  }

  function updateEmptyHints() {
    document.querySelectorAll("[data-group]").forEach(function (group) {
      var items = group.querySelector("[data-items]");
      group.querySelector("[data-empty-hint]").hidden = items.children.length > 0;
    });
    document.querySelector("[data-actions-empty]").hidden = actionList.children.length > 0;
  }

  document.addEventListener("change", function (event) {
    var row = event.target.closest("[data-condition]");
    if (!row) return;
    if (event.target.matches("[data-role=field]")) refreshOperators(row);
    if (event.target.matches("[data-role=operator]")) refreshValue(row);
  });

  form.addEventListener("click", function (event) {
    var target = event.target.closest("button");
    if (!target) return;
    if (target.matches("[data-add-condition]")) {
      var group = target.closest("[data-group]");
      var row = templateClone("tpl-condition");
      group.querySelector("[data-items]").appendChild(row);
      refreshConditionFieldOptions(row);
      refreshOperators(row);
      updateEmptyHints();
      row.querySelector("[data-role=field]").focus();
    } else if (target.matches("[data-add-group]")) {
      var item = templateClone("tpl-group");
      target.closest("[data-group]").querySelector("[data-items]").appendChild(item);
      var first = templateClone("tpl-condition");
      item.querySelector("[data-items]").appendChild(first);
      refreshConditionFieldOptions(first);
      refreshOperators(first);
      updateEmptyHints();
      item.querySelector("[data-role=mode]").focus();
    } else if (target.matches("[data-remove-condition]")) {
      var removed = target.closest("[data-condition]");
      var focusAfter = removed.closest("[data-group]").querySelector("[data-add-condition]");
      removed.remove();
      updateEmptyHints();
      focusAfter.focus();
    } else if (target.matches("[data-remove-group]")) {
      target.closest("[data-group-item]").remove();
      updateEmptyHints();
      conditionsRoot.querySelector("[data-add-group]").focus();
    } else if (target.matches("[data-add-action]")) {
      addAction(document.getElementById("new-action-type").value);
    } else if (target.matches("[data-remove-action]")) {
      var card = target.closest("[data-action]");
      card.remove();
      renumberActions();
      document.querySelector("[data-add-action]").focus();
    } else if (target.matches("[data-move]")) {
      moveAction(target.closest("[data-action]"), target.getAttribute("data-move"), target);
    } else if (target.matches("[data-add-pair]")) {
      addPair(target.closest("[data-pairs]"));
    } else if (target.matches("[data-remove-pair]")) {
      var pairs = target.closest("[data-pairs]");
      target.closest("[data-pair]").remove();
      pairs.querySelector("[data-add-pair]").focus();
    } else if (target.matches("#picker-insert")) {
      insertVariable();
    } else if (target.matches("[data-json-manual]")) {
      form.setAttribute("data-manual", "1");
      definitionField.readOnly = false;
      target.closest("[data-js-hint]").textContent =
        "You are editing the JSON by hand: it is saved as written, and the builder above is ignored.";
      definitionField.focus();
    }
  });

  // ------------------------------------------------------------------------------------------
  // Actions

  function addAction(type) {
    var card = templateClone("tpl-action-" + type);
    actionList.appendChild(card);
    refreshActionFields(card);
    renumberActions();
    var first = card.querySelector("input, select, textarea");
    if (first) first.focus();
  }

  function moveAction(card, direction, button) {
    if (direction === "up" && card.previousElementSibling) {
      actionList.insertBefore(card, card.previousElementSibling);
    } else if (direction === "down" && card.nextElementSibling) {
      actionList.insertBefore(card.nextElementSibling, card);
    }
    renumberActions();
    button.focus();
  }

  function renumberActions() {
    Array.prototype.forEach.call(actionList.children, function (card, index) {
      card.querySelector("[data-action-num]").textContent = String(index + 1);
      card.setAttribute("aria-label", "Action " + (index + 1));
    });
    updateEmptyHints();
  }

  // Which module's fields an action's field/value pairs are about.
  function actionModule(card) {
    var type = card.getAttribute("data-type");
    if (type === "create_record") return card.querySelector("[data-key=module]").value;
    if (type === "update_record") {
      var which = card.querySelector("[data-key=record]").value;
      return which === "related" ? card.querySelector("[data-key=module]").value : currentModule();
    }
    return "";
  }

  function datalistFor(slug, field) {
    if (!field) return "";
    if (field.type === "select") return "dl-" + slug + "-" + field.key;
    if (field.type === "boolean") return "dl-boolean";
    if (field.type === "user") return "dl-users";
    return "";
  }

  function refreshPair(card, pair) {
    var slug = actionModule(card);
    var keyEl = pair.querySelector("[data-pair-key]");
    var valueEl = pair.querySelector("[data-pair-value]");
    var field = moduleFields(slug).find(function (f) { return f.key === keyEl.value; });
    var list = datalistFor(slug, field);
    if (list) valueEl.setAttribute("list", list); else valueEl.removeAttribute("list");
  }

  function refreshActionFields(card) {
    card.querySelectorAll("[data-when]").forEach(function (section) {
      var rule = section.getAttribute("data-when").split("=");
      var value;
      if (rule[0] === "mode") {
        var checked = card.querySelector("[data-email-mode]:checked");
        value = checked ? checked.value : "";
      } else {
        value = card.querySelector("[data-key=" + rule[0] + "]").value;
      }
      section.hidden = value !== rule[1];
    });
    var slug = actionModule(card);
    var fields = moduleFields(slug).map(function (f) { return { value: f.key, label: f.label }; });
    card.querySelectorAll("[data-pair-kind=record] [data-pair]").forEach(function (pair) {
      setOptions(pair.querySelector("[data-pair-key]"), fields);
      refreshPair(card, pair);
    });
  }

  function addPair(pairs) {
    var card = pairs.closest("[data-action]");
    var kind = pairs.getAttribute("data-pair-kind");
    var pair = templateClone(kind === "record" ? "tpl-pair-record" : "tpl-pair-free");
    pairs.querySelector("[data-pair-list]").appendChild(pair);
    if (kind === "record") {
      var fields = moduleFields(actionModule(card)).map(function (f) { return { value: f.key, label: f.label }; });
      setOptions(pair.querySelector("[data-pair-key]"), fields, "");
    }
    pair.querySelector("[data-pair-key]").focus();
  }

  function refreshUserTargets() {
    var fields = moduleFields(currentModule());
    var targets = fields.filter(function (f) { return f.type === "user"; }).map(function (f) {
      return { value: "{{record." + f.key + "}}", label: "The record's " + f.label.toLowerCase() };
    });
    targets.push({ value: "{{user.id}}", label: "The person who triggered it" });
    schema.members.forEach(function (m) { targets.push({ value: String(m.id), label: m.label }); });
    document.querySelectorAll("[data-user-target]").forEach(function (select) {
      setOptions(select, targets);
    });
  }

  form.addEventListener("change", function (event) {
    var card = event.target.closest("[data-action]");
    if (!card) return;
    if (event.target.matches("[data-key=record], [data-module-select], [data-email-mode]")) {
      refreshActionFields(card);
    } else if (event.target.matches("[data-pair-key]")) {
      refreshPair(card, event.target.closest("[data-pair]"));
    }
  });

  // ------------------------------------------------------------------------------------------
  // Variable picker: inserts {{ variable | filter }} into the text box that last had focus.

  var pickerTarget = null;
  var pickerVar = document.getElementById("picker-var");
  var pickerFilter = document.getElementById("picker-filter");
  var pickerTargetLabel = document.querySelector("[data-picker-target]");
  var pickerPreview = document.querySelector("[data-picker-preview]");

  function describeInput(input) {
    var label = input.labels && input.labels[0];
    var text = label ? label.firstChild.textContent.trim() : "text box";
    var card = input.closest("[data-action]");
    if (card) {
      var num = card.querySelector("[data-action-num]").textContent;
      return "Action " + num + " › " + text;
    }
    return text;
  }

  document.addEventListener("focusin", function (event) {
    if (!event.target.matches("[data-templatable]")) return;
    if (pickerTarget) pickerTarget.classList.remove("is-picker-target");
    pickerTarget = event.target;
    pickerTarget.classList.add("is-picker-target");
    pickerTargetLabel.textContent = "Inserting into: " + describeInput(pickerTarget);
  });

  function pickerText() {
    var variable = pickerVar.value || "now";
    return "{{" + variable + pickerFilter.value + "}}";
  }

  function refreshPickerPreview() { pickerPreview.textContent = pickerText(); }
  pickerVar.addEventListener("change", refreshPickerPreview);
  pickerFilter.addEventListener("change", refreshPickerPreview);
  pickerVar.addEventListener("dblclick", insertVariable);
  pickerVar.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); insertVariable(); }
  });

  function insertVariable() {
    if (!pickerTarget || !document.body.contains(pickerTarget)) {
      pickerTargetLabel.textContent = "Click into a text box of an action first.";
      return;
    }
    var text = pickerText();
    var start = pickerTarget.selectionStart == null ? pickerTarget.value.length : pickerTarget.selectionStart;
    var end = pickerTarget.selectionEnd == null ? start : pickerTarget.selectionEnd;
    pickerTarget.value = pickerTarget.value.slice(0, start) + text + pickerTarget.value.slice(end);
    pickerTarget.focus();
    pickerTarget.setSelectionRange(start + text.length, start + text.length);
    pickerTarget.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // Mirrors builder_state.variables_for().
  function refreshVariables() {
    var spec = triggerSpec();
    var roots = new Set(spec.roots || []);
    var fields = moduleFields(currentModule());
    var groups = [];
    if (roots.has("record")) {
      groups.push({ group: "Record", items: fields.concat(schema.system_fields).map(function (f) {
        return { value: "record." + f.key, label: f.label + " · record." + f.key };
      }) });
    }
    if (roots.has("previous")) {
      groups.push({ group: "Previous values", items: fields.map(function (f) {
        return { value: "previous." + f.key, label: "Previous " + f.label.toLowerCase() + " · previous." + f.key };
      }) });
    }
    if (roots.has("user")) {
      groups.push({ group: "Who triggered it", items: [
        { value: "user.id", label: "User id · user.id" },
        { value: "user.email", label: "User email · user.email" }
      ] });
    }
    if (roots.has("webhook")) {
      groups.push({ group: "Webhook", items: [
        { value: "webhook.body", label: "Request body · webhook.body" },
        { value: "webhook.query", label: "Query parameters · webhook.query" },
        { value: "webhook.headers", label: "Headers · webhook.headers" }
      ] });
    }
    groups.push({ group: "Other", items: [
      { value: "now", label: "Now (current time) · now" },
      { value: "trigger.event", label: "Event · trigger.event" },
      { value: "trigger.automation_id", label: "Automation id · trigger.automation_id" },
      { value: "trigger.run_id", label: "Run id · trigger.run_id" }
    ] });
    var keep = pickerVar.value;
    var known = groups.some(function (g) {
      return g.items.some(function (item) { return item.value === keep; });
    });
    setOptions(pickerVar, groups, known ? keep : "");
    if (pickerVar.selectedIndex < 0 && pickerVar.options.length) pickerVar.selectedIndex = 0;
    refreshPickerPreview();
  }

  // ------------------------------------------------------------------------------------------
  // Serialisation: the page -> the API's JSON definition

  function typedValue(type, raw) {
    if (raw.indexOf("{{") !== -1 || raw.indexOf("{%") !== -1) return raw;
    if (type === "number" && raw.trim() !== "" && isFinite(Number(raw))) return Number(raw);
    if (type === "boolean" && (raw === "true" || raw === "false")) return raw === "true";
    if (type === "user" && /^\d+$/.test(raw.trim())) return parseInt(raw, 10);
    return raw;
  }

  function serializeCondition(row) {
    var field = row.querySelector("[data-role=field]").value;
    var operator = row.querySelector("[data-role=operator]").value;
    var condition = { field: field, operator: operator };
    if (!NO_VALUE.has(operator)) {
      var raw = row.querySelector("[data-role=value]").value;
      var spec = fieldSpec(field);
      if (raw !== "") {
        condition.value = STRING_OPS.has(operator) ? raw : typedValue(spec ? spec.type : null, raw);
      }
    }
    return condition;
  }

  function serializeItems(group) {
    var items = [];
    Array.prototype.forEach.call(group.querySelector("[data-items]").children, function (li) {
      if (li.matches("[data-condition]")) {
        items.push(serializeCondition(li));
      } else if (li.matches("[data-group-item]")) {
        var inner = li.querySelector("[data-group]");
        var mode = inner.querySelector("[data-role=mode]").value;
        var sub = {};
        sub[mode] = serializeItems(inner);
        items.push(sub);
      }
    });
    return items;
  }

  function serializeConditions() {
    if (!triggerSpec().module) return [];
    var items = serializeItems(conditionsRoot);
    var mode = conditionsRoot.querySelector("[data-role=mode]").value;
    if (mode === "any" && items.length) return { any: items };
    return items;
  }

  function serializePairs(pairs, slug) {
    var result = {};
    var fields = moduleFields(slug);
    pairs.querySelectorAll("[data-pair]").forEach(function (pair) {
      var key = pair.querySelector("[data-pair-key]").value.trim();
      if (!key) return;
      var raw = pair.querySelector("[data-pair-value]").value;
      var field = fields.find(function (f) { return f.key === key; });
      result[key] = field ? typedValue(field.type, raw) : raw;
    });
    return result;
  }

  var jsonProblems = [];

  function serializeAction(card) {
    var type = card.getAttribute("data-type");
    var config = {};
    card.querySelectorAll("[data-key]").forEach(function (input) {
      if (isHiddenWithin(input, card) || input.closest("[data-pairs]")) return;
      var key = input.getAttribute("data-key");
      var raw = input.value;
      if (input.hasAttribute("data-optional") && raw.trim() === "") return;
      if (input.hasAttribute("data-number")) {
        if (raw.trim() === "") return;
        config[key] = isFinite(Number(raw)) ? Number(raw) : raw;
      } else if (input.hasAttribute("data-json")) {
        try {
          config[key] = JSON.parse(raw);
        } catch (err) {
          jsonProblems.push({ input: input, message: "Not valid JSON: " + err.message });
        }
      } else if (input.hasAttribute("data-user-target")) {
        if (raw === "") return;
        config[key] = /^\d+$/.test(raw) ? parseInt(raw, 10) : raw;
      } else {
        config[key] = raw;
      }
    });
    var slug = actionModule(card);
    card.querySelectorAll("[data-pairs]").forEach(function (pairs) {
      if (isHiddenWithin(pairs, card)) return;
      var name = pairs.getAttribute("data-pairs");
      var values = serializePairs(pairs, pairs.getAttribute("data-pair-kind") === "record" ? slug : "");
      var required = name === "updates" || (type === "create_record" && name === "data");
      if (required || Object.keys(values).length) config[name] = values;
    });
    return { type: type, config: config };
  }

  function serializeTrigger() {
    var spec = triggerSpec();
    var trigger = { type: spec.value };
    if (spec.module) trigger.module = triggerModule.value;
    if (spec.value === "field.changed") trigger.field = triggerField.value;
    if (spec.value === "schedule") trigger.schedule = cronInput.value.trim();
    if (spec.value === "webhook") trigger.webhook_path = webhookPath.value.trim();
    return trigger;
  }

  function serializeErrorHandling() {
    var email = document.getElementById("eh-email").value.trim();
    var limit = document.getElementById("eh-disable").value.trim();
    var handling = { notify_on_failure: document.getElementById("eh-notify").checked };
    if (email) handling.notify_email = email;
    if (limit) handling.disable_after_failures = /^\d+$/.test(limit) ? parseInt(limit, 10) : limit;
    return handling;
  }

  function serialize() {
    jsonProblems = [];
    return {
      trigger: serializeTrigger(),
      conditions: serializeConditions(),
      actions: Array.prototype.map.call(actionList.children, serializeAction),
      error_handling: serializeErrorHandling(),
      timezone: timezoneSelect.value
    };
  }

  form.addEventListener("submit", function (event) {
    if (form.getAttribute("data-manual") === "1") return;
    var definition = serialize();
    document.querySelectorAll("[data-client-error]").forEach(function (n) { n.remove(); });
    if (jsonProblems.length) {
      event.preventDefault();
      jsonProblems.forEach(function (problem) {
        var p = el("p", { "class": "error", "data-client-error": "" }, problem.message);
        problem.input.closest(".field").appendChild(p);
      });
      jsonProblems[0].input.focus();
      return;
    }
    definitionField.value = JSON.stringify(definition, null, 2);
  });

  // Keep the JSON view in step while the user builds, so it can be read at any time.
  form.addEventListener("input", function (event) {
    if (event.target === definitionField || form.getAttribute("data-manual") === "1") return;
    definitionField.value = JSON.stringify(serialize(), null, 2);
  });
  form.addEventListener("change", function (event) {
    if (event.target === definitionField || form.getAttribute("data-manual") === "1") return;
    definitionField.value = JSON.stringify(serialize(), null, 2);
  });

  // ------------------------------------------------------------------------------------------
  // Server errors: the summary's links move focus to the input at the error's path.

  function elementForPath(path) {
    var candidates = document.querySelectorAll("[data-path]");
    for (var p = path; p; p = p.replace(/(\.[^.\[]*|\[\d+\])$/, "")) {
      for (var i = 0; i < candidates.length; i++) {
        if (candidates[i].getAttribute("data-path") === p) return candidates[i];
      }
      if (!/(\.[^.\[]*|\[\d+\])$/.test(p)) break;
    }
    return null;
  }

  document.querySelectorAll("[data-goto-path]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var target = elementForPath(link.getAttribute("data-goto-path"));
      if (!target) return;
      var details = target.closest("details");
      if (details) details.open = true;
      var focusable = target.matches("input, select, textarea") ? target :
        target.querySelector("input, select, textarea, button");
      target.scrollIntoView({ block: "center" });
      if (focusable) focusable.focus();
    });
  });

  document.querySelectorAll(".error[data-error-for]").forEach(function (error) {
    var field = error.closest(".field");
    var input = field && field.querySelector("input, select, textarea");
    if (input) {
      input.classList.add("field-invalid");
      input.setAttribute("aria-invalid", "true");
    }
  });

  // ------------------------------------------------------------------------------------------
  // Start

  definitionField.readOnly = true;
  document.querySelectorAll("[data-js-hint]").forEach(function (n) { n.hidden = false; });
  refreshVariables();
  renumberActions();
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
