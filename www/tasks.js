/*
 * tasks.js - the Tasks tab: the form that submits a task to a service
 * (RepRapCloud's POST /), and the table of tasks with their outputs,
 * logs and a cancel button.  Shares through window.rrcloud (common.js);
 * server data goes in as text only, links only through taskLink.
 */
(function (R) {
    'use strict';

    var MAX_TASK_ROWS = 500;
    var $ = R.$, el = R.el, append = R.append, clear = R.clear, show = R.show;
    var setError = R.setError, taskLink = R.taskLink, toEpoch = R.toEpoch;
    var fmtTime = R.fmtTime, fmtDuration = R.fmtDuration, classPart = R.classPart;
    var listOf = R.listOf, asText = R.asText, getJson = R.getJson;
    var pollers = R.pollers;

    var services = {};          // name -> description from /api/v1/services
    var lastTasksJson = '';

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

    R.tasks = { setup: setupForm, loadServices: loadServices, refresh: refreshTasks };
}(window.rrcloud));
