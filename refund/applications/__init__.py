"""留抵退税申请: arrival (entry, API, the core system's xlsx), the rules' figures and 一键确认, the workflow, the
risk gate (and the registry through which the risk app adds its checks), batch approval, assignment and coaching."""
