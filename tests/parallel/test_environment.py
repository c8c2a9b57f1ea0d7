"""Where a process stands: degenet's, JAX's, Keras's, SLURM's, MPI's and Kubernetes' variables."""

import pytest

from degenet.parallel.environment import ClusterError, detect, first_host
from degenet.parallel.launch import without_processes


def test_every_launcher_is_read():
    assert detect({}) is None
    assert detect({"SLURM_NTASKS": "1", "SLURM_PROCID": "0", "SLURM_STEP_NODELIST": "n1"}) is None
    slurm = detect({"SLURM_NTASKS": "4", "SLURM_PROCID": "2", "SLURM_JOB_ID": "4097",
                    "SLURM_STEP_NODELIST": "gpu[07-09,12],cpu1"})
    assert (slurm.coordinator, slurm.world, slurm.rank, slurm.source) == (
        "gpu07:61441", 4, 2, "SLURM")  # JAX's own port for job 4097
    assert first_host("node1,node2") == "node1" and first_host("a[3,5]") == "a3"
    jax_env = detect({"JAX_COORDINATOR_ADDRESS": "10.0.0.1:1234", "JAX_NUM_PROCESSES": "2",
                      "JAX_PROCESS_ID": "1"})
    assert (jax_env.host, jax_env.port, jax_env.hub_port, jax_env.rank) == (
        "10.0.0.1", 1234, 1235, 1)
    keras_env = detect({"KERAS_DISTRIBUTION_JOB_ADDRESSES": "h0:99,h1:99",
                        "KERAS_DISTRIBUTION_NUM_PROCESSES": "2",
                        "KERAS_DISTRIBUTION_PROCESS_ID": "0", "DEGENET_TIMEOUT": "7.5"})
    assert (keras_env.coordinator, keras_env.timeout) == ("h0:99", 7.5)
    mpi = detect({"OMPI_COMM_WORLD_SIZE": "3", "OMPI_COMM_WORLD_RANK": "2",
                  "DEGENET_COORDINATOR_ADDRESS": "head:7000", "DEGENET_WATCHDOG_PORT": "7100"})
    assert (mpi.world, mpi.rank, mpi.hub_port, mpi.source) == (3, 2, 7100, "Open MPI")
    k8s = detect({"JOB_COMPLETION_INDEX": "1", "DEGENET_NUM_PROCESSES": "4",
                  "DEGENET_COORDINATOR_ADDRESS": "job-0.svc:7000"})
    assert (k8s.world, k8s.rank, k8s.source) == (4, 1, "Kubernetes indexed job")


@pytest.mark.parametrize("env,message", [
    ({"OMPI_COMM_WORLD_SIZE": "4", "OMPI_COMM_WORLD_RANK": "3"},
     "Open MPI gives this process rank 3 of 4 but no coordinator address; set "
     "DEGENET_COORDINATOR_ADDRESS"),
    ({"JOB_COMPLETION_INDEX": "0"}, "indexed job .* needs DEGENET_NUM_PROCESSES"),
    ({"DEGENET_NUM_PROCESSES": "2", "DEGENET_PROCESS_ID": "2",
      "DEGENET_COORDINATOR_ADDRESS": "h:1"}, "process id 2 is outside 0..1"),
    ({"JAX_NUM_PROCESSES": "2", "JAX_PROCESS_ID": "0", "JAX_COORDINATOR_ADDRESS": "host"},
     "coordinator address 'host' .* needs a host and a port"),
    ({"DEGENET_NUM_PROCESSES": "two", "DEGENET_PROCESS_ID": "0"},
     "DEGENET_NUM_PROCESSES must be a whole number; received DEGENET_NUM_PROCESSES='two'"),
    ({"DEGENET_NUM_PROCESSES": "2", "DEGENET_PROCESS_ID": "0",
      "DEGENET_COORDINATOR_ADDRESS": "h:1", "DEGENET_TIMEOUT": "0"},
     "DEGENET_TIMEOUT must be a positive number of seconds"),
])
def test_an_incomplete_environment_says_what_to_set(env, message):
    with pytest.raises(ClusterError, match=message):
        detect(env)


def test_the_workers_run_the_command_without_processes():
    assert without_processes(["fit", "d/", "--processes", "4", "--json"]) == ["fit", "d/",
                                                                             "--json"]
    assert without_processes(["fit", "--processes=2", "d/"]) == ["fit", "d/"]
