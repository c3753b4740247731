"""Control statistics leave the submit request: ``ControlAnswer.scored`` marks what the background job
(``evaluators.control_statistics``) has counted. Answers stored before this migration were counted inline
when they were submitted, so they start as scored; new rows default to unscored."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("evaluators", "0007_verbose_names"),
    ]

    operations = [
        migrations.AddField(
            model_name="controlanswer",
            name="scored",
            field=models.BooleanField(default=True),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="controlanswer",
            name="scored",
            field=models.BooleanField(
                default=False,
                help_text="True once the background job (evaluators.control_statistics) has counted this answer: "
                "gold exposure, rolling accuracy, suspension. Set in the same transaction, so a redelivered job "
                "skips it.",
                verbose_name="scored",
            ),
        ),
        migrations.AddIndex(
            model_name="controlanswer",
            index=models.Index(condition=models.Q(("scored", False)), fields=["membership", "id"],
                               name="control_answer_unscored_idx"),
        ),
    ]
