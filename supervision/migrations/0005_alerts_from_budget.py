"""Alert rules, alerts and their events move from budget/ to supervision/ (issue 18).

Only Django's idea of where the models live changes: the tables keep their names
(db_table), so no row moves. Their content types are renamed in place, so every
permission, archive item and usage record that points at them still does."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


MODELS = ("alertrule", "alert", "alertevent")


def _rename(apps, old, new):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not ContentType.objects.filter(app_label=new, model=model).exists():
            ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def move_content_types(apps, schema_editor):
    _rename(apps, "budget", "supervision")


def move_content_types_back(apps, schema_editor):
    _rename(apps, "supervision", "budget")


class Migration(migrations.Migration):

    dependencies = [
        ('budget', '0004_alert_rule_debt_kinds'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('supervision', '0004_query_requests'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(move_content_types, move_content_types_back),
        migrations.SeparateDatabaseAndState(state_operations=[
        migrations.CreateModel(
            name='Alert',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=200, verbose_name='对象键')),
                ('year', models.PositiveSmallIntegerField(verbose_name='年度')),
                ('month', models.PositiveSmallIntegerField(default=0, verbose_name='月份')),
                ('budget', models.CharField(choices=[('general', '一般公共预算'), ('fund', '政府性基金预算'), ('capital', '国有资本经营预算'), ('social', '社会保险基金预算')], max_length=16, verbose_name='预算类型')),
                ('code', models.CharField(blank=True, max_length=12, verbose_name='科目编码')),
                ('title', models.CharField(max_length=300, verbose_name='标题')),
                ('figures', models.JSONField(default=dict, verbose_name='相关数据')),
                ('grade', models.CharField(choices=[('general', '一般'), ('important', '重要'), ('major', '重大')], max_length=16, verbose_name='等级')),
                ('status', models.CharField(choices=[('new', '新'), ('bulletin', '已通报'), ('letter', '已函询'), ('answered', '已回复'), ('closed', '已关闭')], default='new', max_length=16, verbose_name='状态')),
                ('due_date', models.DateField(blank=True, null=True, verbose_name='办理期限')),
                ('due_provisional', models.BooleanField(default=False, verbose_name='期限暂定')),
                ('overdue_notified_on', models.DateField(blank=True, null=True, verbose_name='逾期提醒日期')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='产生时间')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='更新时间')),
                ('department', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='alerts', to='budget.department', verbose_name='预算单位')),
                ('owner', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='budget_alerts', to=settings.AUTH_USER_MODEL, verbose_name='负责人')),
            ],
            options={
                'verbose_name': '预警',
                'verbose_name_plural': '预警',
                'db_table': 'budget_alert',
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='AlertEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(auto_now_add=True, verbose_name='时间')),
                ('actor_name', models.CharField(blank=True, max_length=150, verbose_name='操作人账号')),
                ('action', models.CharField(max_length=50, verbose_name='事项')),
                ('from_status', models.CharField(blank=True, max_length=16, verbose_name='原状态')),
                ('to_status', models.CharField(blank=True, max_length=16, verbose_name='新状态')),
                ('note', models.TextField(blank=True, verbose_name='说明')),
                ('due_date', models.DateField(blank=True, null=True, verbose_name='办理期限')),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='操作人')),
                ('alert', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='events', to='supervision.alert', verbose_name='预警')),
            ],
            options={
                'verbose_name': '预警处理记录',
                'verbose_name_plural': '预警处理记录',
                'db_table': 'budget_alertevent',
                'ordering': ['at', 'id'],
            },
        ),
        migrations.CreateModel(
            name='AlertRule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, verbose_name='规则名称')),
                ('kind', models.CharField(choices=[('execution_lag', '执行进度落后于序时进度'), ('three_public_over', '三公经费超预算'), ('year_end_rush', '12月支出占全年比重过高'), ('final_deviation', '决算与预算偏离过大'), ('debt_near_limit', '债务余额接近限额'), ('debt_ratio', '债务率超过警戒线'), ('debt_service_ratio', '偿债率超过警戒线'), ('debt_interest_ratio', '利息支出率超过警戒线'), ('debt_maturity_unfunded', '债券到期未落实偿还资金来源')], max_length=32, verbose_name='规则类型')),
                ('scope', models.CharField(choices=[('category', '按类'), ('section', '按款'), ('department', '按单位')], default='category', help_text='仅用于“执行进度落后于序时进度”。', max_length=16, verbose_name='比较层级')),
                ('budget', models.CharField(choices=[('general', '一般公共预算'), ('fund', '政府性基金预算'), ('capital', '国有资本经营预算'), ('social', '社会保险基金预算')], default='general', max_length=16, verbose_name='预算类型')),
                ('threshold', models.DecimalField(decimal_places=2, help_text='进度落后：百分点；12月支出：占全年的百分比；决算偏离：百分比；三公经费：超出预算的百分比（0 表示任何超出）；债务余额接近限额：余额占限额的百分比；债务率、偿债率、利息支出率：警戒线（%）；债券到期未落实偿还资金来源：提前预警的月数。', max_digits=8, verbose_name='阈值')),
                ('min_amount', models.DecimalField(decimal_places=2, default=0, help_text='调整预算数低于此值的科目或单位不参与比较，避免小额科目误报。', max_digits=14, verbose_name='最小金额（万元）')),
                ('grade', models.CharField(choices=[('general', '一般'), ('important', '重要'), ('major', '重大')], default='general', max_length=16, verbose_name='等级')),
                ('is_active', models.BooleanField(default=True, verbose_name='启用')),
                ('owner', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='默认负责人')),
            ],
            options={
                'verbose_name': '预警规则',
                'verbose_name_plural': '预警规则',
                'db_table': 'budget_alertrule',
                'ordering': ['name'],
            },
        ),
        migrations.AddField(
            model_name='alert',
            name='rule',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='alerts', to='supervision.alertrule', verbose_name='规则'),
        ),
        migrations.AddConstraint(
            model_name='alert',
            constraint=models.UniqueConstraint(fields=('rule', 'key', 'year', 'month'), name='budget_alert_unique'),
        ),
        ]),
    ]
