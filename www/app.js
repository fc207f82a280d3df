/*
 * app.js - rrcloud's browser page: submit tasks, watch them, see the fleet,
 * print a model or G-code on it.
 * No framework and no network beyond this server.  Everything the server
 * sends is inserted as text (textContent), never as HTML, and links are
 * made only from URLs checked here.
 */
(function () {
    'use strict';

    var TASK_POLL_MS = 2000;
    var FLEET_POLL_MS = 5000;
    var JOB_POLL_MS = 3000;
    var MODEL_EXT = /\.(stl|obj|3mf|scad)$/i;
    var OVERRIDE_LINE = /^([a-z0-9_]{1,32})=(.*)$/;
    var DEFINE_LINE = /^([A-Za-z_][A-Za-z0-9_]{0,31})=(.*)$/;
    var META_POLL_MS = 30000;
    var MAX_TASK_ROWS = 500;
    var TOKEN_KEY = 'rrcloud.adminToken';
    var PRINTER_STATE_ORDER = ['error', 'offline', 'needs-clearing', 'paused',
        'uploading', 'printing', 'ready', 'maintenance', 'quarantined'];

    var services = {};          // name -> description from /api/v1/services
    var currentTab = 'tasks';
    var timers = {};
    var lastTasksJson = '';
    var printerFilter = '';
    var fleetData = null;
    var watchedJob = null;      // {id, final} of the job shown under the form

    /* --- small helpers ---------------------------------------------------- */

    function $(id) { return document.getElementById(id); }

    /* el('td', {className: 'x'}, 'text' | Node | [children]) */
    function el(tag, props, content) {
        var e = document.createElement(tag);
        Object.keys(props || {}).forEach(function (k) { e[k] = props[k]; });
        append(e, content);
        return e;
    }

    function append(parent, content) {
        if (content === undefined || content === null) {
            return;
        }
        if (Array.isArray(content)) {
            content.forEach(function (c) { append(parent, c); });
        } else if (typeof content === 'object' && content.nodeType) {
            parent.appendChild(content);
        } else {
            parent.appendChild(document.createTextNode(String(content)));
        }
    }

    function clear(node) { node.textContent = ''; }

    function show(node, on) { node.hidden = !on; }

    /* kind 'info' shows a neutral notice instead of an error. */
    function setError(node, msg, kind) {
        node.textContent = msg || '';
        node.className = kind === 'info' ? 'notice' : 'error';
        show(node, !!msg);
    }

    /* A link only for http(s) URLs; anything else stays text.  Without a
     * text the link shows the URL without its scheme. */
    function safeLink(url, text) {
        var u;
        if (typeof url !== 'string' || !url) {
            return text || '';
        }
        try {
            u = new URL(url, window.location.href);
        } catch (e) {
            return text || url;
        }
        if (u.protocol !== 'http:' && u.protocol !== 'https:') {
            return text || url;
        }
        return el('a', { href: u.href, rel: 'noopener noreferrer', title: u.href },
                  text || u.host + (u.pathname === '/' ? '' : u.pathname));
    }

    /* A link to one of the server's own task paths ("tasks/out/X"). */
    function taskLink(path, text) {
        if (typeof path !== 'string' || !/^\/?tasks\/(out|log)\/[^\/?#]+$/.test(path)) {
            return '';
        }
        return el('a', { href: '/' + path.replace(/^\//, '') }, text);
    }

    /* Seconds since the epoch from a number, a numeric string, or an ISO
     * date; null if none.  Values above 1e12 are taken as milliseconds. */
    function toEpoch(v) {
        var n;
        if (v === null || v === undefined || v === '') {
            return null;
        }
        if (typeof v === 'number' || /^\d+(\.\d+)?$/.test(String(v))) {
            n = Number(v);
            return n > 1e12 ? n / 1000 : n;
        }
        n = Date.parse(String(v));
        return isNaN(n) ? null : n / 1000;
    }

    function fmtTime(epoch) {
        var d, now;
        if (!epoch) {
            return '';
        }
        d = new Date(epoch * 1000);
        now = new Date();
        if (d.toDateString() === now.toDateString()) {
            return d.toLocaleTimeString();
        }
        return d.toLocaleString();
    }

    function fmtDuration(s) {
        if (s === null || s === undefined || !isFinite(s) || s < 0) {
            return '';
        }
        if (s < 10) {
            return s.toFixed(1) + ' s';
        }
        if (s < 120) {
            return Math.round(s) + ' s';
        }
        if (s < 7200) {
            return Math.round(s / 60) + ' min';
        }
        if (s < 172800) {
            return (s / 3600).toFixed(1) + ' h';
        }
        return Math.round(s / 86400) + ' d';
    }

    function fmtAgo(epoch) {
        return epoch ? fmtDuration(Math.max(0, Date.now() / 1000 - epoch)) + ' ago' : 'never';
    }

    /* Only [a-z0-9-] may become part of a class name. */
    function classPart(s) {
        return String(s || 'unknown').toLowerCase().replace(/[^a-z0-9-]+/g, '-');
    }

    function pick(o) {
        var i, v;
        for (i = 1; i < arguments.length; i++) {
            v = o ? o[arguments[i]] : undefined;
            if (v !== undefined && v !== null && v !== '') {
                return v;
            }
        }
        return undefined;
    }

    /* The list in an answer: the array itself or the first array member
     * among the given keys. */
    function listOf(j) {
        var i;
        if (Array.isArray(j)) {
            return j;
        }
        for (i = 1; i < arguments.length; i++) {
            if (j && Array.isArray(j[arguments[i]])) {
                return j[arguments[i]];
            }
        }
        return [];
    }

    function asText(v) {
        if (v === undefined || v === null) {
            return '';
        }
        if (Array.isArray(v)) {
            return v.map(asText).join(', ');
        }
        if (typeof v === 'object') {
            return asText(pick(v, 'name', 'id'));
        }
        return String(v);
    }

    /* --- HTTP --------------------------------------------------------------- */

    function HttpError(status, message, field) {
        this.status = status;
        this.message = message;
        this.field = field;
    }

    /* fetch + JSON; rejects with HttpError carrying the server's
     * {"error":{"message","field"}} when it sent one. */
    function getJson(url, opts) {
        opts = opts || {};
        opts.headers = opts.headers || {};
        opts.headers.Accept = 'application/json';
        opts.credentials = 'same-origin';
        return fetch(url, opts).then(function (res) {
            return res.text().then(function (text) {
                var j = null;
                try {
                    j = text ? JSON.parse(text) : null;
                } catch (e) {
                    j = null;
                }
                if (!res.ok || (j && j.error && typeof j.error === 'object')) {
                    var err = j && j.error ? j.error : {};
                    throw new HttpError(res.status,
                        asText(err.message) || res.status + ' ' + res.statusText,
                        asText(err.field));
                }
                if (j === null && text) {
                    throw new HttpError(res.status, 'the server did not answer JSON');
                }
                return j;
            });
        }, function () {
            throw new HttpError(0, 'cannot reach the server');
        });
    }

    function adminToken() {
        try {
            return window.localStorage.getItem(TOKEN_KEY) || '';
        } catch (e) {
            return '';
        }
    }

    function adminHeaders() {
        return adminToken() ? { Authorization: 'Bearer ' + adminToken() } : {};
    }

    /* Runs fn now and then every ms while the page is visible and tab is
     * shown ('' = always); a run never overlaps the previous one. */
    function poll(name, tab, ms, fn) {
        function tick() {
            timers[name] = null;
            if (document.hidden || (tab && currentTab !== tab)) {
                return;
            }
            Promise.resolve().then(fn).catch(function () {}).then(function () {
                if (!timers[name]) {
                    timers[name] = window.setTimeout(tick, ms);
                }
            });
        }
        return function restart() {
            if (timers[name]) {
                window.clearTimeout(timers[name]);
                timers[name] = null;
            }
            tick();
        };
    }

    /* --- tabs ------------------------------------------------------------------ */

    var pollers = {};

    function selectTab(name) {
        if (!$('tab-' + name)) {
            name = 'tasks';
        }
        currentTab = name;
        Array.prototype.forEach.call(document.querySelectorAll('[role=tab]'),
            function (b) {
                var on = b.getAttribute('data-tab') === name;
                b.setAttribute('aria-selected', on ? 'true' : 'false');
                b.tabIndex = on ? 0 : -1;
                show($('tab-' + b.getAttribute('data-tab')), on);
            });
        if (name === 'tasks') {
            pollers.tasks();
        } else if (name === 'fleet') {
            pollers.fleet();
        } else if (name === 'server') {
            pollers.meta();
        }
    }

    function setupTabs() {
        Array.prototype.forEach.call(document.querySelectorAll('[role=tab]'),
            function (b) {
                b.addEventListener('click', function () {
                    var name = b.getAttribute('data-tab');
                    if (window.location.hash !== '#' + name) {
                        window.history.replaceState(null, '', '#' + name);
                    }
                    selectTab(name);
                });
            });
        window.addEventListener('hashchange', function () {
            selectTab(window.location.hash.slice(1));
        });
        document.addEventListener('visibilitychange', function () {
            if (!document.hidden) {
                selectTab(currentTab);
                pollers.meta();
            }
        });
    }

    /* --- the submit form ------------------------------------------------------ */

    function currentService() { return services[$('service').value] || null; }

    /* The preargN value a service accepts: its argInput without "$fileIn". */
    function preargOf(svc) {
        if (!svc || typeof svc.argInput !== 'string' || !svc.argInput) {
            return '';
        }
        return svc.argInput.replace('$fileIn', '');
    }

    function inputRows() {
        return Array.prototype.slice.call($('inputs').querySelectorAll('.input-row'));
    }

    function addInputRow() {
        var svc = currentService();
        var rows = inputRows();
        var i = rows.length;
        var accept = svc && Array.isArray(svc.inputTypes)
            ? svc.inputTypes.map(function (t) { return '.' + t; }).join(',') : '';
        var prearg = preargOf(svc);
        var id = 'fileIn' + i;
        var row = el('div', { className: 'row input-row' }, [
            el('label', { htmlFor: id }, 'Input ' + (i + 1)),
            el('span', { className: 'input-cell' }, [
                el('input', { type: 'file', id: id, accept: accept }),
                prearg ? el('label', { className: 'check' }, [
                    el('input', { type: 'checkbox', className: 'prearg' }),
                    ' pass as ', el('code', null, prearg + 'FILE')
                ]) : null
            ])
        ]);
        $('inputs').appendChild(row);
        updateInputButtons();
    }

    function updateInputButtons() {
        var svc = currentService();
        var max = svc && svc.inputMax ? svc.inputMax : 1;
        $('add-input').hidden = inputRows().length >= max;
        $('input-hint').textContent = svc
            ? 'takes ' + (svc.inputMin === svc.inputMax ? svc.inputMin
                : svc.inputMin + ' to ' + svc.inputMax) + ' input(s)' +
              (Array.isArray(svc.inputTypes) && svc.inputTypes.length
                ? ': ' + svc.inputTypes.join(', ') : '')
            : '';
    }

    function serviceChanged() {
        var svc = currentService();
        var want = svc ? Math.max(1, svc.inputMin || 1) : 1;
        var list = $('options-list');
        clear($('inputs'));
        while (inputRows().length < want) {
            addInputRow();
        }
        $('service-desc').textContent = svc ? asText(svc.description) : '';
        clear(list);
        if (svc && Array.isArray(svc.options) && svc.options.length) {
            svc.options.forEach(function (o) {
                list.appendChild(el('li', null, el('code', null, o)));
            });
            $('options-allowed').hidden = false;
        } else {
            $('options-allowed').hidden = true;
        }
        $('options').disabled = !(svc && svc.options && svc.options.length);
        $('options').placeholder = svc && svc.options && svc.options.length
            ? 'e.g. ' + svc.options[0].replace(/\*/g, '…') : 'this service takes no options';
        updateInputButtons();
    }

    function loadServices() {
        return getJson('/api/v1/services').then(function (j) {
            var sel = $('service');
            var keep = sel.value;
            var list = listOf(j, 'services');
            clear(sel);
            services = {};
            list.forEach(function (s) {
                if (!s || typeof s.name !== 'string') {
                    return;
                }
                services[s.name] = s;
                sel.appendChild(el('option', { value: s.name }, s.name));
            });
            if (!list.length) {
                sel.appendChild(el('option', { value: '' }, 'no services'));
            }
            if (keep && services[keep]) {
                sel.value = keep;
            }
            serviceChanged();
        }, function (e) {
            clear($('service'));
            $('service').appendChild(el('option', { value: '' }, 'unavailable'));
            setResult('error', 'Services: ' + e.message);
        });
    }

    function setResult(kind, content) {
        var out = $('submit-result');
        out.className = kind || '';
        clear(out);
        append(out, content);
    }

    function submitTask(ev) {
        var form = $('submit-form');
        var svc = currentService();
        var fd = new FormData();
        var n = 0;
        var words;
        var btn = $('submit-btn');
        var async = $('async').checked;

        ev.preventDefault();
        Array.prototype.forEach.call(form.querySelectorAll('.invalid'),
            function (x) { x.classList.remove('invalid'); });
        if (!svc) {
            setResult('error', 'Choose a service.');
            return;
        }
        /* RepRapCloud's field order: the service first, then its inputs. */
        fd.append('service', svc.name);
        fd.append('format', 'json');
        if (async) {
            fd.append('async', '1');
        }
        inputRows().forEach(function (row) {
            var f = row.querySelector('input[type=file]');
            var pre = row.querySelector('input.prearg');
            if (f && f.files && f.files.length) {
                if (pre && pre.checked) {
                    fd.append('prearg' + n, preargOf(svc));
                }
                fd.append('fileIn' + n, f.files[0], f.files[0].name);
                n++;
            }
        });
        if (n === 0) {
            setResult('error', 'Choose an input file.');
            return;
        }
        words = $('options').value.trim();
        (words ? words.split(/\s+/) : []).forEach(function (w, i) {
            fd.append('arg' + i, w);
        });
        if ($('notifier').value.trim()) {
            fd.append('notifier', $('notifier').value.trim());
        }
        btn.disabled = true;
        setResult('busy', async ? 'Sending…' : 'Sending; the answer comes when the task ends…');
        getJson('/', { method: 'POST', body: fd }).then(function (t) {
            var id = t && asText(t.id);
            var st = asText(t && t.status);
            setResult(st === 'failed' || st === 'cancelled' ? 'error' : 'ok', [
                'Task ',
                id ? el('a', { href: '/?service=info&id=' + encodeURIComponent(id) }, id) : '?',
                ' ' + (st || 'accepted') + (t && t.error ? ': ' + asText(t.error) : '') + '.'
            ]);
            pollers.tasks();
        }, function (e) {
            var target = null;
            if (e.field) {
                if (/^fileIn\d+$/.test(e.field)) {
                    target = $(e.field);
                } else if (/^(arg\d+|nativeArgs)$/.test(e.field)) {
                    target = $('options');
                } else if (e.field === 'notifier' || e.field === 'service') {
                    target = $(e.field);
                }
            }
            if (target) {
                target.classList.add('invalid');
            }
            /* The server's messages usually name the field already. */
            setResult('error', e.field && e.message.indexOf(e.field) !== 0
                ? e.field + ': ' + e.message : e.message);
        }).then(function () {
            btn.disabled = false;
        });
    }

    function setupForm() {
        $('service').addEventListener('change', serviceChanged);
        $('add-input').addEventListener('click', addInputRow);
        $('submit-form').addEventListener('submit', submitTask);
    }

    /* --- tasks ------------------------------------------------------------------ */

    function cancelTask(id, btn) {
        btn.disabled = true;
        getJson('/api/v1/tasks/' + encodeURIComponent(id) + '/cancel',
                { method: 'POST' }).then(function () {
            pollers.tasks();
        }, function (e) {
            btn.disabled = false;
            setError($('tasks-error'), 'Cancel ' + id + ': ' + e.message);
        });
    }

    function taskRow(t) {
        var status = asText(t.status);
        var id = asText(t.id);
        var ctime = toEpoch(t.ctime);
        var stime = toEpoch(t.stime);
        var etime = toEpoch(t.etime);
        var took = stime ? (etime || Date.now() / 1000) - stime : null;
        var out = asText(t.out);
        var cancel = '';
        if (status === 'queued' || status === 'busy') {
            cancel = el('button', { type: 'button', className: 'small secondary' }, 'Cancel');
            cancel.addEventListener('click', function () { cancelTask(id, cancel); });
        }
        return el('tr', null, [
            el('td', { className: 'id' },
               el('a', { href: '/?service=info&id=' + encodeURIComponent(id) }, id)),
            el('td', null, asText(t.service)),
            el('td', { className: 'st-' + classPart(status) }, status),
            el('td', { title: ctime ? new Date(ctime * 1000).toString() : '' }, fmtTime(ctime)),
            el('td', { className: 'num' }, took === null ? '' : fmtDuration(took)),
            el('td', null, status === 'complete' && out
                ? taskLink(out, out.replace(/^.*\//, '')) : ''),
            el('td', null, taskLink(asText(t.log), 'log')),
            el('td', { className: status === 'failed' ? 'reason bad' : 'reason' },
               asText(t.error)),
            el('td', null, cancel)
        ]);
    }

    function renderTasks(list) {
        var tbody = $('tasks-table').tBodies[0];
        var frag = document.createDocumentFragment();
        var sorted = list.filter(function (t) { return t && t.id; });
        sorted.sort(function (a, b) {
            return (toEpoch(b.ctime) || 0) - (toEpoch(a.ctime) || 0);
        });
        sorted.slice(0, MAX_TASK_ROWS).forEach(function (t) {
            frag.appendChild(taskRow(t));
        });
        clear(tbody);
        tbody.appendChild(frag);
        $('tasks-count').textContent = sorted.length ? '(' + sorted.length + ')' : '';
        show($('tasks-empty'), sorted.length === 0);
        show($('tasks-table'), sorted.length > 0);
    }

    function refreshTasks() {
        return getJson('/?service=info&format=json').then(function (j) {
            var list = listOf(j, 'tasks');
            var s = JSON.stringify(list);
            var busy = list.some(function (t) { return t && t.status === 'busy'; });
            setError($('tasks-error'), '');
            /* Unchanged data: keep the DOM (and any focus) as it is, but
             * keep the running times moving. */
            if (s !== lastTasksJson || busy) {
                lastTasksJson = s;
                renderTasks(list);
            }
        }, function (e) {
            setError($('tasks-error'), 'Tasks: ' + e.message);
        });
    }

    /* --- server meta ----------------------------------------------------------- */

    function refreshMeta() {
        return getJson('/?service=meta&format=json').then(function (m) {
            var tbody = $('meta-table').tBodies[0];
            var keys = Object.keys(m || {}).sort();
            clear(tbody);
            keys.forEach(function (k) {
                tbody.appendChild(el('tr', null, [el('th', null, k),
                                                  el('td', null, asText(m[k]))]));
            });
            $('meta-summary').textContent = [asText(m.serverName),
                asText(m.version).replace(/ \(.*\)$/, ''),
                m.cpuLoad !== undefined ? 'load ' + asText(m.cpuLoad) : '',
                m.queued !== undefined ? asText(m.queued) + ' queued' : '',
                m.busy !== undefined ? asText(m.busy) + ' busy' : '']
                .filter(Boolean).join(' · ');
            setError($('meta-error'), '');
        }, function (e) {
            setError($('meta-error'), 'Server: ' + e.message);
        });
    }

    /* --- fleet ------------------------------------------------------------------ */

    function printerState(p) { return classPart(pick(p, 'state', 'status') || 'unknown'); }

    function stateRank(s) {
        var i = PRINTER_STATE_ORDER.indexOf(s);
        return i < 0 ? PRINTER_STATE_ORDER.length : i;
    }

    function renderStateChips(printers) {
        var box = $('printer-states');
        var counts = {};
        var states;
        printers.forEach(function (p) {
            var s = printerState(p);
            counts[s] = (counts[s] || 0) + 1;
        });
        states = Object.keys(counts).sort(function (a, b) {
            return stateRank(a) - stateRank(b) || (a < b ? -1 : 1);
        });
        if (printerFilter && !counts[printerFilter]) {
            printerFilter = '';
        }
        clear(box);
        [''].concat(states).forEach(function (s) {
            var b = el('button', {
                type: 'button',
                className: 'chip' + (s ? ' ps-' + s : ''),
                title: s ? 'show only ' + s : 'show all'
            }, [s || 'all', ' ', el('b', null, String(s ? counts[s] : printers.length))]);
            b.setAttribute('aria-pressed', printerFilter === s ? 'true' : 'false');
            b.addEventListener('click', function () {
                printerFilter = s;
                renderFleet();
            });
            box.appendChild(b);
        });
    }

    /* What the printer prints: a bar, the percentage and the time left
     * (progress is 0..1, time_left seconds; both null when unknown). */
    function printCell(p) {
        var prog = p.progress, left = p.time_left, file = asText(p.file);
        var bits = [];
        if (typeof prog !== 'number') {
            return el('td', { className: 'print' }, '');
        }
        bits.push(el('progress', { max: 1, value: prog }));
        bits.push(' ' + (prog * 100).toFixed(1) + '%');
        if (typeof left === 'number') {
            bits.push(el('span', { className: 'sub' }, ' ' + fmtDuration(left) + ' left'));
        }
        return el('td', { className: 'print', title: file }, bits);
    }

    function heater(h) {
        return h && typeof h.temperature === 'number'
            ? h.temperature.toFixed(1) + '/' + Math.round(h.target || 0) + '\u00b0C' : '';
    }

    /* Extruder and bed, actual/target. */
    function heatersCell(p) {
        var ext = heater(p.extruder), bed = heater(p.bed);
        return el('td', { className: 'num', title: 'extruder ' + ext + ', bed ' + bed },
                  ext || bed ? [ext, el('span', { className: 'sub' }, ' bed ' + bed)] : '');
    }

    function printerRow(p) {
        var state = printerState(p);
        var id = asText(pick(p, 'id'));
        var name = asText(pick(p, 'name')) || id;
        var fe = pick(p, 'frontend', 'frontend_name');
        var mat = [asText(pick(p, 'material')), asText(pick(p, 'colour', 'color'))]
            .filter(Boolean).join(' ');
        var grams = p.spool && typeof p.spool.grams === 'number'
            ? Math.round(p.spool.grams) + ' g left' : '';
        var seen = toEpoch(pick(p, 'last_seen', 'lastSeen', 'seen'));
        var share = asText(pick(p, 'share_url', 'shareUrl'));
        return el('tr', null, [
            el('td', null, [name, id && id !== name ? el('span', { className: 'sub' }, ' #' + id) : '']),
            el('td', { className: 'ps ps-' + state }, state),
            printCell(p),
            heatersCell(p),
            el('td', null, asText(pick(p, 'region'))),
            el('td', null, asText(fe)),
            el('td', { className: 'url' }, share ? safeLink(share) : ''),
            el('td', null, [mat, grams ? el('span', { className: 'sub' }, ' ' + grams) : '']),
            el('td', null, asText(pick(p, 'queues'))),
            el('td', { title: seen ? new Date(seen * 1000).toString() : '',
                       className: 'num' }, fmtAgo(seen))
        ]);
    }

    function renderFleet() {
        var printers, frontends, queues, rows, tb;
        if (!fleetData) {
            return;
        }
        printers = fleetData.printers;
        frontends = fleetData.frontends;
        queues = fleetData.queues;
        renderStateChips(printers);
        rows = printers.filter(function (p) {
            return !printerFilter || printerState(p) === printerFilter;
        });
        rows.sort(function (a, b) {
            return stateRank(printerState(a)) - stateRank(printerState(b)) ||
                asText(pick(a, 'name', 'id')).localeCompare(asText(pick(b, 'name', 'id')),
                                                            undefined, { numeric: true });
        });
        tb = $('printers-table').tBodies[0];
        clear(tb);
        rows.forEach(function (p) { tb.appendChild(printerRow(p)); });
        $('printers-count').textContent = '(' + printers.length + ')';

        tb = $('frontends-table').tBodies[0];
        clear(tb);
        frontends.forEach(function (f) {
            var h = pick(f, 'health', 'status', 'healthy');
            var health = h === true ? 'healthy' : h === false ? 'unhealthy' : asText(h);
            var load = pick(f, 'load', 'printers', 'assigned', 'online');
            var cap = pick(f, 'capacity');
            if (Array.isArray(load)) {
                load = load.length;
            }
            tb.appendChild(el('tr', null, [
                el('td', null, asText(pick(f, 'name', 'id'))),
                el('td', null, asText(pick(f, 'region'))),
                el('td', { className: 'fh-' + classPart(health) }, health),
                el('td', { className: 'num' }, load === undefined ? '' :
                    asText(load) + (cap !== undefined ? ' / ' + asText(cap) : '')),
                el('td', null, asText(pick(f, 'namespace'))),
                el('td', { className: 'url' }, safeLink(asText(pick(f, 'url'))))
            ]));
        });
        $('frontends-count').textContent = '(' + frontends.length + ')';

        fillQueues(queues);
        tb = $('queues-table').tBodies[0];
        clear(tb);
        queues.forEach(function (q) {
            var jobs = pick(q, 'depth', 'jobs', 'queued', 'pending');
            var prs = pick(q, 'printers');
            tb.appendChild(el('tr', null, [
                el('td', null, asText(pick(q, 'name', 'id'))),
                el('td', { className: 'num' }, Array.isArray(jobs) ? jobs.length : asText(jobs)),
                el('td', { className: 'num' }, Array.isArray(prs) ? prs.length : asText(prs)),
                el('td', null, asText(pick(q, 'description')))
            ]));
        });
        $('queues-count').textContent = '(' + queues.length + ')';
    }

    function showFleet(on) {
        Array.prototype.forEach.call(document.querySelectorAll('.fleet-data'),
            function (n) { show(n, on); });
    }

    function refreshFleet() {
        var opts = function () { return { headers: adminHeaders() }; };
        if (!adminToken()) {
            fleetData = null;
            showFleet(false);
            setError($('fleet-error'), 'Paste the admin token to see the fleet.', 'info');
            return Promise.resolve();
        }
        return Promise.all([
            getJson('/api/v1/printers', opts()),
            getJson('/api/v1/frontends', opts()),
            getJson('/api/v1/queues', opts())
        ]).then(function (r) {
            fleetData = {
                printers: listOf(r[0], 'printers', 'items'),
                frontends: listOf(r[1], 'frontends', 'items'),
                queues: listOf(r[2], 'queues', 'items')
            };
            setError($('fleet-error'), '');
            showFleet(true);
            renderFleet();
        }, function (e) {
            var refused = e.status === 401 || e.status === 403;
            if (refused) {
                fleetData = null;
                showFleet(false);
            }
            setError($('fleet-error'), refused
                ? 'The server refused the admin token (' + e.message + ').'
                : 'Fleet: ' + e.message);
        });
    }

    function setupToken() {
        $('admin-token').value = adminToken();
        $('token-form').addEventListener('submit', function (ev) {
            ev.preventDefault();
            try {
                window.localStorage.setItem(TOKEN_KEY, $('admin-token').value.trim());
            } catch (e) {
                setError($('fleet-error'), 'This browser does not keep the token.');
                return;
            }
            pollers.fleet();
        });
        $('token-forget').addEventListener('click', function () {
            try {
                window.localStorage.removeItem(TOKEN_KEY);
            } catch (e) { /* nothing kept */ }
            $('admin-token').value = '';
            fleetData = null;
            ['printers-table', 'frontends-table', 'queues-table'].forEach(function (t) {
                clear($(t).tBodies[0]);
            });
            clear($('printer-states'));
            watchedJob = null;
            show($('job-view'), false);
            showFleet(false);
            pollers.fleet();
        });
    }

    /* --- print jobs --------------------------------------------------------------- */

    function FieldError(field, message) {
        this.field = field;
        this.message = field + ': ' + message;
    }

    /* A print job as the page sends it to POST /api/v1/queues/Q/jobs, from
     * the form's values {fileName, queue, copies, material, profile,
     * overrides, defines (texts, NAME=VALUE a line)}: {url, fields:
     * [[name, value]]},
     * the file last as [part, null] ('model' for a model, 'file' for
     * G-code).  Throws a FieldError for what the server would refuse
     * anyway, before the upload. */
    /* NAME=VALUE lines of text as [prefix + NAME, VALUE] into fields;
     * what (the form's name for them) in an error. */
    function pairLines(text, re, prefix, what, fields) {
        var seen = {};
        (text || '').split('\n').forEach(function (line) {
            var m;
            line = line.trim();
            if (!line) {
                return;
            }
            m = re.exec(line);
            if (!m) {
                throw new FieldError(what, "'" + line + "' is not NAME=VALUE");
            }
            if (seen[m[1]]) {
                throw new FieldError(what, m[1] + ' given twice');
            }
            seen[m[1]] = true;
            fields.push([prefix + m[1], m[2]]);
        });
    }

    function jobFields(v) {
        var fields = [];
        var model = MODEL_EXT.test(v.fileName || '');
        var copies = String(v.copies || '1').trim();
        if (!v.fileName) {
            throw new FieldError('file', 'choose a file');
        }
        if (!/^[0-9]{1,7}$/.test(copies) || Number(copies) < 1) {
            throw new FieldError('copies', 'a whole number from 1');
        }
        fields.push(['copies', String(Number(copies))]);
        if ((v.material || '').trim()) {
            fields.push(['material', v.material.trim()]);
        }
        if ((v.profile || '').trim()) {
            fields.push(['profile', v.profile.replace(/\s+/g, '')]);
        }
        if ((v.overrides || '').trim() && !model) {
            throw new FieldError('overrides', 'only a model is sliced; G-code takes none');
        }
        pairLines(v.overrides, OVERRIDE_LINE, 'override.', 'overrides', fields);
        if ((v.defines || '').trim() && !/\.scad$/i.test(v.fileName)) {
            throw new FieldError('defines', 'only a .scad model has variables');
        }
        pairLines(v.defines, DEFINE_LINE, 'define.', 'defines', fields);
        fields.push([model ? 'model' : 'file', null]);
        return {
            url: '/api/v1/queues/' + encodeURIComponent(v.queue || 'default') + '/jobs',
            fields: fields
        };
    }

    /* The queue choice follows the fleet's queues, keeping the one chosen. */
    function fillQueues(queues) {
        var sel = $('job-queue');
        var was = sel.value || 'default';
        var names = queues.map(function (q) { return asText(pick(q, 'name', 'id')); })
            .filter(function (n) { return n; });
        if (names.join('\n') === Array.prototype.map.call(sel.options,
                function (o) { return o.value; }).join('\n')) {
            return;
        }
        clear(sel);
        (names.length ? names : ['default']).forEach(function (n) {
            sel.appendChild(el('option', { value: n, selected: n === was }, n));
        });
    }

    /* Which input to mark for a field the server or jobFields named. */
    var JOB_INPUTS = { file: 'job-file', model: 'job-file', copies: 'job-copies',
        material: 'job-material', profile: 'job-profile', queue: 'job-queue',
        overrides: 'job-overrides', defines: 'job-defines' };
    function jobInput(field) {
        var f = /^override/.test(field || '') ? 'overrides'
            : /^define/.test(field || '') ? 'defines' : field;
        return Object.prototype.hasOwnProperty.call(JOB_INPUTS, f)
            ? $(JOB_INPUTS[f]) : null;
    }

    function jobResult(kind, content) {
        var out = $('job-result');
        out.className = kind || '';
        clear(out);
        append(out, content);
    }

    function submitJob(ev) {
        var file = $('job-file').files && $('job-file').files[0];
        var btn = $('job-btn');
        var fd = new FormData();
        var req;

        ev.preventDefault();
        Array.prototype.forEach.call($('job-form').querySelectorAll('.invalid'),
            function (x) { x.classList.remove('invalid'); });
        try {
            req = jobFields({
                fileName: file ? file.name : '',
                queue: $('job-queue').value,
                copies: $('job-copies').value,
                material: $('job-material').value,
                profile: $('job-profile').value,
                overrides: $('job-overrides').value,
                defines: $('job-defines').value
            });
        } catch (e) {
            if (jobInput(e.field)) {
                jobInput(e.field).classList.add('invalid');
                jobInput(e.field).focus();
            }
            jobResult('error', e.message);
            return;
        }
        req.fields.forEach(function (f) {
            if (f[1] === null) {
                fd.append(f[0], file, file.name);
            } else {
                fd.append(f[0], f[1]);
            }
        });
        btn.disabled = true;
        jobResult('busy', 'Sending…');
        getJson(req.url, { method: 'POST', body: fd, headers: adminHeaders() })
            .then(function (j) {
                var id = j && j.id;
                jobResult('ok', 'Job ' + asText(id) + ' queued.');
                watchJob(id);
            }, function (e) {
                if (e.field && jobInput(e.field)) {
                    jobInput(e.field).classList.add('invalid');
                }
                jobResult('error', e.field && e.message.indexOf(e.field) !== 0
                    ? e.field + ': ' + e.message : e.message);
            }).then(function () {
                btn.disabled = false;
            });
    }

    function watchJob(id) {
        if (!/^[0-9]+$/.test(String(id))) {
            return;
        }
        watchedJob = { id: String(id), final: false };
        $('job-id').textContent = String(id);
        clear($('slices-table').tBodies[0]);
        $('job-summary').textContent = 'Waiting for the server…';
        show($('job-view'), true);
        pollers.job();
    }

    /* "complete 1, queued 1" from the job's copy counts. */
    function copiesText(j) {
        var by = j.copies_by_state || {};
        return Object.keys(by).filter(function (k) { return by[k]; })
            .map(function (k) { return asText(by[k]) + ' ' + k; }).join(', ');
    }

    function renderJob(j) {
        var tb = $('slices-table').tBodies[0];
        var parts = ['State: ' + asText(j.state)];
        var excluded = listOf(j.excluded_profiles);
        if (j.copies_by_state) {
            parts.push('copies: ' + copiesText(j));
        }
        if (j.render && typeof j.render === 'object') {
            parts.push('model ' + asText(j.render.state) + ' by ' + asText(j.render.service));
        }
        if (j.reason) {
            parts.push('reason: ' + asText(j.reason));
        }
        $('job-summary').textContent = parts.join('; ') + '.';
        clear(tb);
        listOf(j.slices).forEach(function (s) {
            tb.appendChild(el('tr', null, [
                el('td', null, asText(s.profile)),
                el('td', { className: 'ss-' + classPart(asText(s.state)) }, asText(s.state)),
                el('td', null, asText(s.material)),
                el('td', null, asText(s.reason))
            ]));
        });
        show($('slices-table'), listOf(j.slices).length > 0);
        $('job-excluded').textContent = excluded.length ? 'Excluded profiles: ' +
            excluded.map(function (x) {
                return asText(x.profile) + ' (' + asText(x.reason) + ')';
            }).join('; ') + '.' : '';
        show($('job-excluded'), excluded.length > 0);
    }

    function refreshJob() {
        var w = watchedJob;
        if (!w || w.final || !adminToken()) {
            return Promise.resolve();
        }
        return getJson('/api/v1/jobs/' + encodeURIComponent(w.id),
                       { headers: adminHeaders() }).then(function (j) {
            if (watchedJob !== w) {
                return;
            }
            renderJob(j || {});
            w.final = /^(complete|failed|cancelled)$/.test(asText(j && j.state));
        }, function (e) {
            $('job-summary').textContent = 'Job ' + w.id + ': ' + e.message;
        });
    }

    function setupJobForm() {
        $('job-form').addEventListener('submit', submitJob);
    }

    /* For tests (tests/integration/test_scad_jobs.sh runs it under node). */
    window.rrcloudJobFields = jobFields;

    /* --- start ---------------------------------------------------------------------- */

    function start() {
        pollers.tasks = poll('tasks', 'tasks', TASK_POLL_MS, refreshTasks);
        pollers.fleet = poll('fleet', 'fleet', FLEET_POLL_MS, refreshFleet);
        pollers.meta = poll('meta', '', META_POLL_MS, refreshMeta);
        pollers.job = poll('job', 'fleet', JOB_POLL_MS, refreshJob);
        setupTabs();
        setupForm();
        setupToken();
        setupJobForm();
        loadServices();
        pollers.meta();
        selectTab(window.location.hash.slice(1) || 'tasks');
    }

    if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', start);
    } else {
        start();
    }
}());
