/*
 * fleet.js - the Fleet tab: the admin token form, the printers,
 * frontends and queues tables, and the form that prints a model or
 * G-code with the view of the job it made.  Shares through
 * window.rrcloud (common.js); server data goes in as text only, links
 * only through safeLink.
 */
(function (R) {
    'use strict';

    var MODEL_EXT = /\.(stl|obj|3mf|scad)$/i;
    var OVERRIDE_LINE = /^([a-z0-9_]{1,32})=(.*)$/;
    var DEFINE_LINE = /^([A-Za-z_][A-Za-z0-9_]{0,31})=(.*)$/;
    var PRINTER_STATE_ORDER = ['error', 'offline', 'needs-clearing', 'paused',
        'uploading', 'printing', 'ready', 'maintenance', 'quarantined'];
    var $ = R.$, el = R.el, append = R.append, clear = R.clear, show = R.show;
    var setError = R.setError, safeLink = R.safeLink, toEpoch = R.toEpoch;
    var fmtDuration = R.fmtDuration, fmtAgo = R.fmtAgo, classPart = R.classPart;
    var pick = R.pick, listOf = R.listOf, asText = R.asText, getJson = R.getJson;
    var adminToken = R.adminToken, adminHeaders = R.adminHeaders;
    var pollers = R.pollers;

    var printerFilter = '';
    var fleetData = null;
    var watchedJob = null;      // {id, final} of the job shown under the form

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
            if (!R.saveAdminToken($('admin-token').value.trim())) {
                setError($('fleet-error'), 'This browser does not keep the token.');
                return;
            }
            pollers.fleet();
        });
        $('token-forget').addEventListener('click', function () {
            R.forgetAdminToken();
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

    /* A print job as the page sends it to POST /api/v1/queues/Q/jobs, from
     * the form's values {fileName, queue, copies, material, profile,
     * overrides, defines (texts, NAME=VALUE a line)}: {url, fields:
     * [[name, value]]},
     * the file last as [part, null] ('model' for a model, 'file' for
     * G-code).  Throws a FieldError for what the server would refuse
     * anyway, before the upload. */
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

    R.fleet = {
        setup: function () { setupToken(); setupJobForm(); },
        refresh: refreshFleet,
        refreshJob: refreshJob,
        /* For tests (tests/integration/test_scad_jobs.sh runs it under node). */
        jobFields: jobFields
    };
}(window.rrcloud));
