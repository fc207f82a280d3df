/*
 * page.js - the page itself, loaded last: its tabs, the Server tab, the
 * pollers that keep each tab current while it is shown, and the start
 * that sets the others up (tasks.js, fleet.js through window.rrcloud).
 * Server data goes in as text only.
 */
(function (R) {
    'use strict';

    var TASK_POLL_MS = 2000;
    var FLEET_POLL_MS = 5000;
    var JOB_POLL_MS = 3000;
    var META_POLL_MS = 30000;
    var $ = R.$, el = R.el, clear = R.clear, show = R.show, setError = R.setError;
    var asText = R.asText, getJson = R.getJson;
    var pollers = R.pollers;

    var currentTab = 'tasks';
    var timers = {};

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

    /* --- start ---------------------------------------------------------------------- */

    function start() {
        pollers.tasks = poll('tasks', 'tasks', TASK_POLL_MS, R.tasks.refresh);
        pollers.fleet = poll('fleet', 'fleet', FLEET_POLL_MS, R.fleet.refresh);
        pollers.meta = poll('meta', '', META_POLL_MS, refreshMeta);
        pollers.job = poll('job', 'fleet', JOB_POLL_MS, R.fleet.refreshJob);
        setupTabs();
        R.tasks.setup();
        R.fleet.setup();
        R.tasks.loadServices();
        pollers.meta();
        selectTab(window.location.hash.slice(1) || 'tasks');
    }

    if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', start);
    } else {
        start();
    }
}(window.rrcloud));
