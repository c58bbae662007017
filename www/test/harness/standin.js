/*
 * STAND-IN, FOR TESTS ONLY: the handful of Proxmox VE web UI classes that
 * pve-smbgateway.js builds on, written for this harness from their
 * documented behaviour (pve-manager's www/manager6 and
 * proxmox-widget-toolkit's src/, as summarised in the project's notes). It
 * is not Proxmox code and implements only what the wizard and the edit
 * panel use:
 *
 *  - gettext, Proxmox.NodeName
 *  - Proxmox.Utils.API2Request: '/api2/extjs' prefix, Ext.Ajax request,
 *    result decoded into response.result, `success: 0` answers and HTTP
 *    failures go to failure() with response.htmlStatus
 *    (extractRequestError), waitMsgTarget masking
 *  - Proxmox.Utils.extractRequestError, assemble_field_data, format_size
 *  - Proxmox.panel.InputPanel (xtype inputpanel): items or column1/column2/
 *    columnB, getValues() through onGetValues(), setValues()
 *  - Proxmox.window.Edit: a form window that submits the input panel's
 *    values to `url` with `method`, shows the server's error, loads values
 *    when editing
 *  - PVE.panel.StorageBase: adds the ID field, a nodes field and the enable
 *    checkbox; onGetValues sets `type` on create, drops `storage` on edit,
 *    turns `enable` into `disable`
 *  - PVE.storage.BaseEdit: POST /storage or PUT /storage/{id} with the panel
 *    named by `paneltype`
 *  - PVE.Utils.storageSchema and format_storage_type
 *  - PVE.dc.StorageView: the storage grid whose Add menu is built from
 *    storageSchema and whose createStorageEditWindow(type, sid) opens the
 *    editor (the method pve-smbgateway.js overrides)
 */
/* global gettext: true, Proxmox: true, PVE: true */
window.gettext = function (s) { return s; };
window.Proxmox = { NodeName: 'pve1', Utils: {} };
window.PVE = { Utils: {}, panel: {}, storage: {}, dc: {} };

Proxmox.Utils.extractRequestError = function (result, verbose) {
    let msg = gettext('Successful');
    if (!result.success) {
        msg = gettext('Unknown error');
        if (result.message) {
            msg = Ext.htmlEncode(result.message);
            if (result.status) {
                msg += ` (${result.status})`;
            }
        }
        if (verbose && Ext.isObject(result.errors)) {
            msg += '<br>';
            Ext.Object.each(result.errors, (prop, desc) => {
                msg += `<br><b>${Ext.htmlEncode(prop)}</b>: ${Ext.htmlEncode(desc)}`;
            });
        }
    }
    return msg;
};

Proxmox.Utils.assemble_field_data = function (values, data) {
    if (!Ext.isObject(data)) {
        return;
    }
    Ext.Object.each(data, function (name, val) {
        if (Object.prototype.hasOwnProperty.call(values, name)) {
            let bucket = values[name];
            if (!Ext.isArray(bucket)) {
                bucket = values[name] = [bucket];
            }
            if (Ext.isArray(val)) {
                values[name] = bucket.concat(val);
            } else {
                bucket.push(val);
            }
        } else {
            values[name] = val;
        }
    });
};

Proxmox.Utils.format_size = function (size) {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
    let i = 0;
    while (size >= 1024 && i < units.length - 1) {
        size /= 1024;
        i++;
    }
    return i === 0 ? `${size} B` : `${size.toFixed(2)} ${units[i]}`;
};

Proxmox.Utils.API2Request = function (reqOpts) {
    const newopts = Ext.apply({ waitMsg: gettext('Please wait...') }, reqOpts);
    const autoErrorAlert = reqOpts.autoErrorAlert ??
        (typeof reqOpts.failure !== 'function' && typeof reqOpts.callback !== 'function');
    if (!newopts.url.match(/^\/api2/)) {
        newopts.url = '/api2/extjs' + newopts.url;
    }
    delete newopts.callback;
    const unmask = (target) => target && target.setLoading && !target.destroyed && target.setLoading(false);
    const callbackFn = reqOpts.callback;
    const successFn = reqOpts.success;
    const failureFn = reqOpts.failure;
    Ext.apply(newopts, {
        success: function (response, options) {
            unmask(options.waitMsgTarget);
            const result = Ext.decode(response.responseText);
            response.result = result;
            if (!result.success) {
                response.htmlStatus = Proxmox.Utils.extractRequestError(result, true);
                Ext.callback(callbackFn, options.scope, [options, false, response]);
                Ext.callback(failureFn, options.scope, [response, options]);
                if (autoErrorAlert) {
                    Ext.Msg.alert(gettext('Error'), response.htmlStatus);
                }
                return;
            }
            Ext.callback(callbackFn, options.scope, [options, true, response]);
            Ext.callback(successFn, options.scope, [response, options]);
        },
        failure: function (response, options) {
            unmask(options.waitMsgTarget);
            response.result = {};
            try {
                response.result = Ext.decode(response.responseText);
            } catch (_e) {
                // not JSON
            }
            let msg = gettext('Connection error') + ' - server offline?';
            if (response.status && response.statusText) {
                msg = gettext('Connection error') + ' ' + response.status + ': ' + response.statusText;
            }
            response.htmlStatus = Ext.htmlEncode(msg);
            Ext.callback(callbackFn, options.scope, [options, false, response]);
            Ext.callback(failureFn, options.scope, [response, options]);
        },
    });
    if (newopts.waitMsgTarget && newopts.waitMsgTarget.rendered) {
        newopts.waitMsgTarget.setLoading(newopts.waitMsg);
    }
    Ext.Ajax.request(newopts);
};

Ext.define('Proxmox.panel.InputPanel', {
    extend: 'Ext.panel.Panel',
    alias: ['widget.inputpanel'],
    border: false,

    onGetValues: function (values) {
        return values;
    },

    getValues: function () {
        let me = this;
        const values = {};
        Ext.Array.each(me.query('[isFormField]'), function (field) {
            Proxmox.Utils.assemble_field_data(values, field.getSubmitData());
        });
        return me.onGetValues(values);
    },

    onSetValues: function (values) {
        return values;
    },

    setValues: function (values) {
        let me = this;
        values = me.onSetValues(values);
        Ext.iterate(values, function (name, val) {
            me.query('[isFormField][name=' + name + ']').forEach((f) => f.setValue(val));
        });
    },

    initComponent: function () {
        let me = this;
        let items;
        if (me.items) {
            items = [{ layout: 'anchor', border: false, items: me.items }];
        } else {
            items = [{
                layout: 'hbox',
                border: false,
                defaults: { border: false, layout: 'anchor', flex: 1 },
                items: [
                    { padding: '0 10 0 0', items: me.column1 },
                    { padding: '0 0 0 10', items: me.column2 || [] },
                ],
            }];
            if (me.columnB) {
                items.push({ padding: '10 0 0 0', border: false, layout: 'anchor', items: me.columnB });
            }
        }
        Ext.apply(me, { layout: 'anchor', items: items });
        me.callParent();
    },
});

Ext.define('Proxmox.window.Edit', {
    extend: 'Ext.window.Window',
    modal: true,
    width: 640,
    autoShow: false,
    layout: 'fit',

    submit: function () {
        let me = this;
        const values = me.ipanel.getValues();
        Proxmox.Utils.API2Request({
            url: me.url,
            method: me.method,
            params: values,
            waitMsgTarget: me,
            failure: (response) => {
                me.down('#editError').update(response.htmlStatus);
                me.down('#editError').setVisible(true);
            },
            success: () => me.close(),
        });
    },

    load: function (opts) {
        let me = this;
        Proxmox.Utils.API2Request({
            url: me.url,
            method: 'GET',
            waitMsgTarget: me,
            failure: (response) => Ext.Msg.alert(gettext('Error'), response.htmlStatus),
            success: opts.success,
        });
    },

    initComponent: function () {
        let me = this;
        me.title = (me.isCreate ? gettext('Add') : gettext('Edit')) + ': ' + me.subject;
        const form = {
            xtype: 'form',
            border: false,
            bodyPadding: 10,
            items: [me.items, { xtype: 'component', itemId: 'editError', hidden: true, style: 'color: #c00' }],
        };
        me.items = form;
        me.buttons = [{ text: me.isCreate ? gettext('Add') : gettext('OK'), itemId: 'submit', handler: () => me.submit() }];
        me.callParent();
    },
});

PVE.Utils.storageSchema = {
    dir: { name: 'Directory', ipanel: 'DirInputPanel', faIcon: 'folder', backups: true },
    zfspool: { name: 'ZFS', ipanel: 'ZFSPoolInputPanel', faIcon: 'th-large', backups: false },
    cephfs: { name: 'CephFS', ipanel: 'CephFSInputPanel', faIcon: 'building', backups: true },
    rbd: { name: 'RBD', ipanel: 'RBDInputPanel', faIcon: 'building', backups: false },
};

PVE.Utils.format_storage_type = function (value) {
    const schema = PVE.Utils.storageSchema[value];
    return schema ? schema.name : value;
};

Ext.define('PVE.panel.StorageBase', {
    extend: 'Proxmox.panel.InputPanel',
    type: '',

    onGetValues: function (values) {
        let me = this;
        if (me.isCreate) {
            values.type = me.type;
        } else {
            delete values.storage;
        }
        values.disable = values.enable ? 0 : 1;
        delete values.enable;
        return values;
    },

    initComponent: function () {
        let me = this;
        me.column1 = me.column1 || [];
        me.column1.unshift({
            xtype: me.isCreate ? 'textfield' : 'displayfield',
            name: 'storage',
            value: me.storageId || '',
            fieldLabel: 'ID',
            allowBlank: false,
        });
        me.column2 = me.column2 || [];
        me.column2.unshift(
            // pveNodeSelector in Proxmox VE: a multi-select of the nodes.
            { xtype: 'textfield', name: 'nodes', fieldLabel: gettext('Nodes'), emptyText: gettext('All') },
            { xtype: 'checkbox', name: 'enable', checked: true, inputValue: 1, uncheckedValue: 0, fieldLabel: gettext('Enable') },
        );
        me.callParent();
    },
});

Ext.define('PVE.storage.BaseEdit', {
    extend: 'Proxmox.window.Edit',

    initComponent: function () {
        let me = this;
        me.isCreate = !me.storageId;
        me.url = me.isCreate ? '/api2/extjs/storage' : '/api2/extjs/storage/' + me.storageId;
        me.method = me.isCreate ? 'POST' : 'PUT';
        me.ipanel = Ext.create(me.paneltype, {
            type: me.type,
            isCreate: me.isCreate,
            storageId: me.storageId,
        });
        Ext.apply(me, { subject: PVE.Utils.format_storage_type(me.type), items: me.ipanel });
        me.callParent();
        if (!me.isCreate) {
            me.load({
                success: function (response) {
                    const values = response.result.data;
                    values.enable = values.disable ? 0 : 1;
                    me.ipanel.setValues(values);
                },
            });
        }
    },
});

Ext.define('PVE.dc.StorageView', {
    extend: 'Ext.grid.Panel',
    alias: ['widget.pveStorageView'],

    createStorageEditWindow: function (type, sid) {
        const schema = PVE.Utils.storageSchema[type];
        if (!schema || !schema.ipanel) {
            throw 'no editor registered for storage type: ' + type;
        }
        Ext.create('PVE.storage.BaseEdit', {
            paneltype: 'PVE.storage.' + schema.ipanel,
            type: type,
            storageId: sid,
            canDoBackups: schema.backups,
            autoShow: true,
            listeners: { destroy: this.reloadStore },
        });
    },

    initComponent: function () {
        let me = this;
        const store = Ext.create('Ext.data.Store', { fields: ['storage', 'type', 'content'], data: [] });
        const load = () => Proxmox.Utils.API2Request({
            url: '/storage',
            method: 'GET',
            success: (r) => store.loadData(r.result.data),
        });
        const addMenuItems = [];
        for (const [type, storage] of Object.entries(PVE.Utils.storageSchema)) {
            if (storage.hideAdd) {
                continue;
            }
            addMenuItems.push({
                text: PVE.Utils.format_storage_type(type),
                iconCls: 'fa fa-fw fa-' + storage.faIcon,
                handler: () => me.createStorageEditWindow(type),
            });
        }
        const sm = Ext.create('Ext.selection.RowModel', {});
        Ext.apply(me, {
            store: store,
            selModel: sm,
            reloadStore: load,
            tbar: [
                { text: gettext('Add'), itemId: 'add', menu: { items: addMenuItems } },
                {
                    text: gettext('Edit'),
                    itemId: 'edit',
                    handler: () => {
                        const rec = sm.getSelection()[0];
                        if (rec) {
                            me.createStorageEditWindow(rec.data.type, rec.data.storage);
                        }
                    },
                },
            ],
            columns: [
                { header: 'ID', dataIndex: 'storage', flex: 2 },
                { header: gettext('Type'), dataIndex: 'type', flex: 1, renderer: PVE.Utils.format_storage_type },
                { header: gettext('Content'), dataIndex: 'content', flex: 2 },
            ],
        });
        me.callParent();
        load();
    },
});
