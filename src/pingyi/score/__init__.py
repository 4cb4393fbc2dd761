"""The score stage: values against baselines -> points, lights and reasons -> dimension and total
scores, grades and ranks -> peers -> prepayment adjustments and designation.

    indicator.py  one indicator scored with its rule (pingyi.spec.rules), light and reason
    lights.py     indicator, dimension and grade lights
    funnel.py     funnel-plot control limits with overdispersion (statistical lights)
    casemix.py    raw and case-mix-adjusted judgements side by side, and the sentence on which counted
    aggregate.py  weighted aggregation, grades, veto, ranks
    peers.py      percentiles among same region-and-level peers
    adjust.py     prepayment rewards and penalties, designation status, the budget
    baselines.py  next year's baselines from this year's results (`pingyi baselines derive`)
    stage.py      score_all() and adjust_all(): the stage as the pipeline calls it
"""
